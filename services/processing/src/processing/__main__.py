import uvicorn

from processing.main import create_app
from processing.settings import ProcessingSettings


def main() -> None:
    settings = ProcessingSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
