"""Per-coin chain rules, pure and I/O-free (spec/api.md §6.1, §6.4–6.8, §6.10, §6.13, §6.14).

Modules, one job each:

* ``constants``  — §8 amounts, limits and FEE_LEVELS;
* ``errors``     — the ClientError used here (``bws.errors.ClientError`` when present);
* ``address``    — derive wallet addresses, parse/validate output addresses, scripts;
* ``txsize``     — size and fee estimation (§6.6);
* ``selection``  — balance totals (§6.4), UTXO selection (§6.7), send-max info (§6.13);
* ``txbuild``    — build/serialise/sign/verify BTC/BCH transactions, checkTx (§6.8, §6.10);
* ``feelevels``  — fee levels from estimator samples (§6.5);
* ``history``    — normalise and decorate explorer transactions (§6.14);
* ``btc``        — a façade re-exporting the public names above.
"""
