"""The stream gateway: camera video to browsers (fMP4 over WebSocket, HLS), shared pulls."""
