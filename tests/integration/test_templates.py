"""Templates: Mustache→Jinja2 translation, amounts, language/unit fallbacks, shipped files."""

import os

import pytest

from bws.delivery.templates import (
    TEMPLATE_BY_TYPE,
    TemplateError,
    TemplateSet,
    build_template_data,
    choose_language,
    choose_unit,
    format_amount,
    format_amount_with_label,
    mustache_escape,
    render_mustache,
    translate_mustache,
)

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "templates")
LANGS = ["en", "es", "fr", "ja", "zh"]


@pytest.mark.parametrize(
    "amount,unit,text",
    [
        (12_300_000, "bit", "123,000"),
        (12_300_000, "btc", "0.123"),
        (80_000_000, "btc", "0.80"),
        (80_000_000, "bit", "800,000"),
        (1500, "sat", "1,500"),
        (123_456_789_012, "btc", "1,234.56789"),
        (1, "btc", "0.00"),
        (150, "bit", "2"),
        (10**8, "bch", "1.00"),
        (1_250_000_000_000_000_000, "eth", "1.25"),
        ("1250000000000000000", "eth", "1.25"),
        (21_000 * 10**9, "gwei", "21,000"),
        (1_500_000_000, "gwei", "1.5"),
        (3 * 10**18 + 10**12, "try", "3.000001"),
        (10**30, "eth", "1,000,000,000,000.00"),
    ],
)
def test_format_amount(amount, unit, text):
    assert format_amount(amount, unit) == text


def test_labels_and_errors():
    assert format_amount_with_label(12_300_000, "bit") == "123,000 bits"
    assert format_amount_with_label(12_300_000, "BTC") == "0.123 BTC"
    assert format_amount_with_label(10**18, "eth") == "1.00 ETH"
    assert format_amount_with_label(10**18, "try") == "1.00 TRY"
    with pytest.raises(ValueError):
        format_amount(1, "doge")
    with pytest.raises(ValueError):
        format_amount("abc", "btc")


def test_choose_language_and_unit():
    assert choose_language("es", LANGS, "en") == "es"
    assert choose_language("de", LANGS, "en") == "en"
    assert choose_language(None, LANGS, "fr") == "fr"
    assert choose_unit("btc", "bit", "btc") == "bit"
    assert choose_unit("btc", None, "bit") == "bit"
    assert choose_unit("btc", "eth", "btc") == "btc"
    assert choose_unit("bch", "bit", "btc") == "bch"
    assert choose_unit("eth", "gwei", "btc") == "gwei"
    assert choose_unit("eth", "bit", "btc") == "eth"
    assert choose_unit("try", "bit", "btc") == "try"


def test_mustache_translation_and_escape():
    assert mustache_escape("a&b<c>\"'/`=") == "a&amp;b&lt;c&gt;&quot;&#39;&#x2F;&#x60;&#x3D;"
    assert translate_mustache("{{a}} {{&b}} {{{c}}}") == "{{ a|mustache_escape }} {{ b|mustache_raw }} {{ c|mustache_raw }}"
    assert render_mustache("x={{a}} y={{&a}} z={{{a}}} u={{missing}}", {"a": "<i>"}) == "x=&lt;i&gt; y=<i> z=<i> u="
    assert render_mustache("https://ex.org/tx/{{txid}}", {"txid": "ab12"}) == "https://ex.org/tx/ab12"


def test_every_language_has_every_template():
    ts = TemplateSet(ROOT)
    assert ts.languages == LANGS
    data = {"subjectPrefix": "[W] ", "amount": "1.00 BTC", "copayerName": "Ann", "rejectorsNames": "Bob"}
    for lang in LANGS:
        subjects = set()
        for basename in TEMPLATE_BY_TYPE.values():
            r = ts.render(lang, basename, data)
            assert r.subject.startswith("[W] ") and "  " not in r.subject, (lang, basename, r.subject)
            assert r.body.endswith("\n") and r.body.strip()
            assert r.html.startswith("<html") and r.body.strip() in r.html
            subjects.add(r.subject)
            if basename in ("new_incoming_tx", "new_outgoing_tx"):
                assert "1.00 BTC" in r.body
        assert len(subjects) == 7


def test_reference_subjects():
    ts = TemplateSet(ROOT)
    d = {"subjectPrefix": ""}
    assert ts.render("en", "new_copayer", d).subject == "New copayer"
    assert ts.render("es", "new_incoming_tx", d).subject == "Nuevo pago recibido"
    assert ts.render("fr", "txp_finally_rejected", d).subject == "Proposition de paiement rejetée"
    assert ts.render("ja", "wallet_complete", d).subject == "ウォレット作成完了"
    assert ts.render("en", "tx_confirmation", d).subject == "Transaction confirmed"
    assert ts.render("en", "new_outgoing_tx", {"subjectPrefix": "", "amount": "2 bits"}).body == (
        "A Payment of 2 bits has been sent from your wallet.\n"
    )
    # ja uses the data keys that exist (the reference had CopayerName/RejectorsNames)
    assert "Ann" in ts.render("ja", "new_tx_proposal", {"copayerName": "Ann"}).body
    assert "Bob, Cy" in ts.render("ja", "txp_finally_rejected", {"rejectorsNames": "Bob, Cy"}).body


def test_plain_escaping_and_empty_data(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "x.plain").write_text("S {{a}}\nB {{a}} {{&a}}\n")
    (tmp_path / "en" / "x.html").write_text("<html>{{&urlForTx}}</html>")
    ts = TemplateSet(str(tmp_path))
    r = ts.render("en", "x", {"a": "a/b", "urlForTx": "https://x/tx/1"})
    assert (r.subject, r.body, r.html) == ("S a&#x2F;b", "B a&#x2F;b a/b\n", "<html>https://x/tx/1</html>")
    with pytest.raises(TemplateError):
        ts.render("en", "x", {})
    with pytest.raises(TemplateError):
        ts.render("en", "missing", {"a": 1})


def test_build_template_data():
    wallet = {"id": "w1", "name": "W", "m": 2, "n": 3, "coin": "btc", "network": "testnet",
              "copayers": [{"id": "c1", "name": "Ann"}, {"id": "c2", "name": "Bob"}, {"id": "c3", "name": "Cy"}]}
    n = {"id": "1", "type": "TxProposalFinallyRejected", "creatorId": "c2",
         "data": {"amount": 12_300_000, "rejectedBy": ["c2", "c3"]}}
    d = build_template_data(n, wallet, "bit", "[W] ")
    assert d["amount"] == "123,000 bits" and d["copayerName"] == "Bob" and d["rejectorsNames"] == "Bob, Cy"
    assert (d["walletId"], d["walletM"], d["walletN"]) == ("w1", 2, 3)
    n2 = {"id": "2", "type": "NewIncomingTx", "data": {"txid": "ab", "amount": 1}}
    urls = {"btc": {"testnet": "https://t.example/tx/{{txid}}"}}
    assert build_template_data(n2, wallet, "btc", "", urls)["urlForTx"] == "https://t.example/tx/ab"
    assert "urlForTx" not in build_template_data(n2, {**wallet, "coin": "eth"}, "eth", "", urls)
    with pytest.raises(ValueError, match="Could not format amount"):
        build_template_data(n2, wallet, "doge", "")
