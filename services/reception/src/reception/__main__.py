import uvicorn

from reception.main import create_app
from reception.settings import ReceptionSettings


def main() -> None:
    settings = ReceptionSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
