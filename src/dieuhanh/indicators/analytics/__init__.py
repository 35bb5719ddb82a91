"""Analytics: indicator figures, outliers, the national report, dashboards and completeness
tracking. The highest part: may use every part below it."""
