from mlrig.components.config import env


def test_secret_is_read_from_its_file_when_unset(tmp_path, monkeypatch):
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    monkeypatch.delenv(env.PG_PASSWORD, raising=False)
    monkeypatch.setenv(env.PG_PASSWORD + env.SECRET_FILE_SUFFIX, str(secret))
    env.load_secret_files()
    assert env.get(env.PG_PASSWORD) == "s3cret"


def test_secret_in_the_environment_wins(monkeypatch):
    monkeypatch.setenv(env.PG_PASSWORD, "given")
    monkeypatch.setenv(env.PG_PASSWORD + env.SECRET_FILE_SUFFIX, "/nonexistent")
    env.load_secret_files()
    assert env.get(env.PG_PASSWORD) == "given"


def test_overrides_map_to_dotted_keys(monkeypatch):
    monkeypatch.setenv("MLRIG__SERVING__PORT", "9")
    assert env.overrides()["serving.port"] == "9"
