"""Per-coin chain rules, pure and I/O-free (docs/spec/api.md §6.1, §6.4–6.8,
docs/spec/api.md §6.10, §6.13, §6.14, §9).

The functions take model objects (:class:`bws.model.TxProposal`) where they
work on a proposal, and wire dicts where the data is a wire shape by nature
(an explorer UTXO, a client-sent output, a history item); each module's
docstring says which.

Modules, one job each:

* ``constants``  — docs/spec/api.md §8 amounts, limits and FEE_LEVELS;
* ``errors``     — the errors raised here (``bws.errors`` ClientError, TxBuildError);
* ``address``    — derive wallet addresses, parse/validate output addresses, scripts;
* ``txsize``     — size and fee estimation (docs/spec/api.md §6.6);
* ``selection``  — balance totals, UTXO selection, send-max info (docs/spec/api.md §6.4, §6.7, §6.13);
* ``txbuild``    — build/serialise/sign/verify BTC/BCH transactions, checkTx (docs/spec/api.md §6.8, §6.10);
* ``feelevels``  — fee levels from estimator samples (docs/spec/api.md §6.5);
* ``history``    — normalise and decorate explorer transactions (docs/spec/api.md §6.14);
* ``evm``        — ETH/TRY raw-transaction decoding and checks (docs/spec/api.md §9.6).
"""
