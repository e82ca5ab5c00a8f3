"""Call audio: reading and writing it (media), the one pass that redacts and measures it (analysis),
and serving it with byte ranges (serving)."""
