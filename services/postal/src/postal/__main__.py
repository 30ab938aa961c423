import uvicorn

from postal.main import create_app
from postal.settings import PostalSettings


def main() -> None:
    settings = PostalSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
