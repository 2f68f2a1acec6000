"""The Discord adapter: the discord.py client and the rendering of core replies."""
