"""Remote consoles: one-time console tokens and the noVNC websocket proxy."""
