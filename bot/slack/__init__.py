"""The Slack adapter (slack-bolt): see bot.slack.app."""
