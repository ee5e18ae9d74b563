"""Configuration: defaults, file, environment, and errors that name the key."""

import json

import pytest

from bws.config import ConfigError, config_from_dict, load_config


def test_defaults_match_the_reference():
    cfg = config_from_dict({})
    assert cfg.basePath == "/bws/api" and cfg.port == 3232
    assert cfg.lockOpts.lockerServer.port == 3231 and cfg.lockOpts.waitTime == 10.0 and cfg.lockOpts.maxHoldTime == 300.0
    assert cfg.messageBroker.port == 3380 and cfg.locker.port == 3231
    assert cfg.fiatRateServiceOpts.defaultProvider == "BitPay" and cfg.fiatRateServiceOpts.fetchInterval == 60
    assert cfg.mongo_uri == "mongodb://127.0.0.1:27017/bws"  # embedded default
    assert cfg.locker.host == "127.0.0.1" and cfg.messageBroker.host == "127.0.0.1"


def test_file_then_environment(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"port": 4000, "emailOpts": {"enabled": True, "from": "ops@x.io"},
                             "storageOpts": {"mongoDb": {"uri": "mongodb://db:27017/prod"}}}))
    cfg = load_config(str(f), environ={"BWS_PORT": "5000", "BWS__emailOpts__port": "2525",
                                       "BWS_MONGODB_URI": "mongodb://other:1/x"})
    assert cfg.port == 5000
    assert cfg.emailOpts.from_ == "ops@x.io" and cfg.emailOpts.port == 2525 and cfg.emailOpts.enabled
    assert cfg.mongo_uri == "mongodb://other:1/x"
    assert cfg.to_dict()["emailOpts"]["from"] == "ops@x.io"


@pytest.mark.parametrize(
    "data, key",
    [
        ({"port": "abc"}, "port"),
        ({"port": 70000}, "port"),
        ({"lockOpts": {"waitTime": "x"}}, "lockOpts.waitTime"),
        ({"lockOpts": {"mode": "zookeeper"}}, "lockOpts.mode"),
        ({"storageOpts": {"mongoDb": {"uri": "postgres://x"}}}, "storageOpts.mongoDb.uri"),
        ({"emailOpts": {"enabled": "yes"}}, "emailOpts.enabled"),
        ({"nope": 1}, "nope"),
        ({"locker": {"host": "0.0.0.0"}}, "locker.secret"),
        ({"blockchainExplorerOpts": {"btc": {"livenet": {"provider": "insight", "url": "x"}}}},
         "blockchainExplorerOpts.btc.livenet.provider"),
        ({"fiatRateServiceOpts": {"defaultProvider": "Nobody"}}, "fiatRateServiceOpts.defaultProvider"),
        ({"storageOpts": {"mongoDb": {"transactionTimeoutMS": 0}}}, "storageOpts.mongoDb.transactionTimeoutMS"),
        ({"storageOpts": {"mongoDb": {"transactionTimeoutMS": "5s"}}}, "storageOpts.mongoDb.transactionTimeoutMS"),
        ({"storageOpts": {"mongoDb": {"transactionTimeoutMS": 300_001}}}, "storageOpts.mongoDb.transactionTimeoutMS"),
    ],
)
def test_invalid_values_name_the_key(data, key):
    with pytest.raises(ConfigError) as e:
        config_from_dict(data)
    assert str(e.value).startswith(key), str(e.value)


def test_bad_file_is_reported(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(str(f), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "missing.json"), environ={})
