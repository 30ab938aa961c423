"""``python -m notify``: serve notify with the settings from the environment."""

from __future__ import annotations

import uvicorn

from notify.main import create_app
from notify.settings import NotifySettings


def main() -> None:
    settings = NotifySettings()  # read from NOTIFY_... variables
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
