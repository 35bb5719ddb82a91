document.getElementById("toy-greeting")?.setAttribute("data-ready", "1");
