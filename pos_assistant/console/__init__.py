"""The agent console: a web app where support agents take over conversations from the assistant.

`python -m pos_assistant.console` serves it (CONSOLE_HOST:CONSOLE_PORT). Modules by job:
`models` (tables), `accounts` (passwords, login limits, sessions), `audit` (who did what, when),
`auth` (cookies and CSRF for aiohttp), `views` (what the page shows of a conversation),
`api_*` (the JSON routes), `events` (server-sent events), `app` (wiring and static files).
"""
