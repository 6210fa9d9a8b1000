"""Published MAPK-cascade models, written as :class:`Network` s, to check the engine.

* :func:`huang_ferrell` — Huang & Ferrell (1996) *Ultrasensitivity in the mitogen-activated
  protein kinase cascade*, PNAS 93:10078–10083, doi:10.1073/pnas.93.19.10078. Three
  tiers of mass-action enzyme reactions (binding, unbinding, catalysis for each of the
  ten phosphorylation/dephosphorylation steps; 22 species). The paper's point: the
  steady-state response of MAPK-PP to the input enzyme E1 is as steep as a Hill
  curve with coefficient ≈ 4.9 (MAPKK-PP ≈ 1.7, MAPKKK* ≈ 1.0), the effective Hill
  coefficient being log(81) / log(EC90 / EC10). This port gives 4.8, 1.5 and 0.8.
* :func:`kholodenko` — Kholodenko (2000) *Negative feedback and ultrasensitivity can
  bring about oscillations in the mitogen-activated protein kinase cascades*,
  Eur. J. Biochem. 267:1583–1588, doi:10.1046/j.1432-1327.2000.01197.x. Eight species,
  Michaelis–Menten rate laws, MAPK-PP inhibiting the first tier (Ki, n); with the
  paper's parameters (n = 1, Ki = 9 nM) MAPK-PP oscillates without damping (this port:
  period 21.7 min, MAPK-PP between ~36 and ~297 nM of 300 once settled).

Values are the papers' (as curated in BioModels BIOMD0000000009 and BIOMD0000000010),
converted to this package's units: µM and hours (1 nM = 1e-3 µM; 1/s = 3600/h).
"""

from __future__ import annotations

from trkres.models.signalling.network import Network, Parameter, Reaction, Species

__all__ = ["HUANG_FERRELL_DOI", "KHOLODENKO_DOI", "huang_ferrell", "kholodenko"]

HUANG_FERRELL_DOI = "doi:10.1073/pnas.93.19.10078"
KHOLODENKO_DOI = "doi:10.1046/j.1432-1327.2000.01197.x"

_PER_S = 3600.0  # 1/s → 1/h


def huang_ferrell(e1_total: float = 3e-5) -> Network:
    """Huang–Ferrell 1996 MAPK cascade (mass action, 22 species, µM and hours).

    ``e1_total`` is the input: total MAPKKK-activating enzyme E1 (µM; the paper scans
    it over ~1e-6–1e-2 µM). Every association rate is 1000 µM⁻¹ s⁻¹, every dissociation
    and catalytic rate 150 s⁻¹ (so each Km = 300 nM); totals: MAPKKK 3 nM, E2 0.3 nM,
    MAPKK 1.2 µM, MAPKK-Pase 0.3 nM, MAPK 1.2 µM, MAPK-Pase 120 nM.
    """
    src = f"{HUANG_FERRELL_DOI} (BioModels BIOMD0000000009)"
    species = [
        Species("E1", e1_total, "MAPKKK-activating enzyme (input)"),
        Species("E2", 0.0003, "MAPKKK-inactivating enzyme"),
        Species("KKK", 0.003, "MAPKKK"),
        Species("KKKs", 0.0, "MAPKKK* (active)"),
        Species("KK", 1.2, "MAPKK"),
        Species("KKP", 0.0, "MAPKK-P"),
        Species("KKPP", 0.0, "MAPKK-PP"),
        Species("K", 1.2, "MAPK"),
        Species("KP", 0.0, "MAPK-P"),
        Species("KPP", 0.0, "MAPK-PP"),
        Species("KKPase", 0.0003, "MAPKK phosphatase"),
        Species("KPase", 0.12, "MAPK phosphatase"),
    ]
    # (substrate, enzyme, product) for the ten enzymatic steps, in the paper's order
    steps = [
        ("KKK", "E1", "KKKs"),
        ("KKKs", "E2", "KKK"),
        ("KK", "KKKs", "KKP"),
        ("KKP", "KKPase", "KK"),
        ("KKP", "KKKs", "KKPP"),
        ("KKPP", "KKPase", "KKP"),
        ("K", "KKPP", "KP"),
        ("KP", "KPase", "K"),
        ("KP", "KKPP", "KPP"),
        ("KPP", "KPase", "KP"),
    ]
    params: list[Parameter] = []
    reactions: list[Reaction] = []
    for i, (sub, enz, prod) in enumerate(steps, start=1):
        complex_ = f"{sub}_{enz}"
        species.append(Species(complex_, 0.0, f"{sub}·{enz} complex"))
        params += [
            Parameter(f"a{i}", 1000.0 * _PER_S, "1/(µM·h)", f"association, step {i}", src),
            Parameter(f"d{i}", 150.0 * _PER_S, "1/h", f"dissociation, step {i}", src),
            Parameter(f"k{i}", 150.0 * _PER_S, "1/h", f"catalysis, step {i}", src),
        ]
        reactions += [
            Reaction(f"bind{i}", (sub, enz), (complex_,), f"a{i} * {sub} * {enz}"),
            Reaction(f"unbind{i}", (complex_,), (sub, enz), f"d{i} * {complex_}"),
            Reaction(f"cat{i}", (complex_,), (prod, enz), f"k{i} * {complex_}"),
        ]
    observables = {
        # active forms, free and in complexes (the paper's "MAPKKK*", "MAPKK-PP", "MAPK-PP")
        "KKK_active": "KKKs + KKKs_E2 + KK_KKKs + KKP_KKKs",
        "KK_PP": "KKPP + KKPP_KKPase + K_KKPP + KP_KKPP",
        "K_PP": "KPP + KPP_KPase",
        "K_PP_fraction": "(KPP + KPP_KPase) / 1.2",
    }
    return Network(
        name="huang_ferrell_1996",
        species=tuple(species),
        parameters=tuple(params),
        reactions=tuple(reactions),
        observables=observables,
        description="Huang & Ferrell 1996 MAPK cascade, " + HUANG_FERRELL_DOI,
    )


def kholodenko() -> Network:
    """Kholodenko 2000 MAPK cascade with negative feedback (8 species, µM and hours).

    Rate laws and values as curated from the paper in BioModels BIOMD0000000010 (the
    paper's own table was not re-read for this port): V1 = 2.5 nM/s, Ki = 9 nM,
    n = 1, K1 = 10 nM, V2 = 0.25 nM/s, K2 = 8 nM, k3 = k4 = k7 = k8 = 0.025 /s,
    K3..K10 = 15 nM, V5 = V6 = 0.75 nM/s, V9 = V10 = 0.5 nM/s; totals MKKK 100 nM,
    MKK 300 nM, MAPK 300 nM (initial: 90/10, 280/10/10, 280/10/10 nM).
    """
    src = f"{KHOLODENKO_DOI} (BioModels BIOMD0000000010)"

    def conc(name: str, nm: float, what: str) -> Parameter:
        return Parameter(name, nm / 1000, "µM", what, src)

    def vmax(name: str, nm_s: float, what: str) -> Parameter:
        return Parameter(name, nm_s * _PER_S / 1000, "µM/h", what, src)

    def kcat(name: str, per_s: float, what: str) -> Parameter:
        return Parameter(name, per_s * _PER_S, "1/h", what, src)

    params = [
        vmax("V1", 2.5, "MKKK activation, maximal rate"),
        conc("Ki", 9.0, "MAPK-PP inhibition constant (feedback)"),
        Parameter("n", 1.0, "1", "feedback Hill exponent", src),
        conc("K1", 10.0, "MKKK activation Km"),
        vmax("V2", 0.25, "MKKK-P dephosphorylation, maximal rate"),
        conc("K2", 8.0, "MKKK-P dephosphorylation Km"),
        kcat("k3", 0.025, "MKK phosphorylation by MKKK-P, catalytic rate"),
        conc("K3", 15.0, "Km"),
        kcat("k4", 0.025, "MKK-P phosphorylation by MKKK-P, catalytic rate"),
        conc("K4", 15.0, "Km"),
        vmax("V5", 0.75, "MKK-PP dephosphorylation, maximal rate"),
        conc("K5", 15.0, "Km"),
        vmax("V6", 0.75, "MKK-P dephosphorylation, maximal rate"),
        conc("K6", 15.0, "Km"),
        kcat("k7", 0.025, "MAPK phosphorylation by MKK-PP, catalytic rate"),
        conc("K7", 15.0, "Km"),
        kcat("k8", 0.025, "MAPK-P phosphorylation by MKK-PP, catalytic rate"),
        conc("K8", 15.0, "Km"),
        vmax("V9", 0.5, "MAPK-PP dephosphorylation, maximal rate"),
        conc("K9", 15.0, "Km"),
        vmax("V10", 0.5, "MAPK-P dephosphorylation, maximal rate"),
        conc("K10", 15.0, "Km"),
    ]
    species = [
        Species("MKKK", 90 / 1000, "MAPKKK"),
        Species("MKKK_P", 10 / 1000, "MAPKKK-P"),
        Species("MKK", 280 / 1000, "MAPKK"),
        Species("MKK_P", 10 / 1000, "MAPKK-P"),
        Species("MKK_PP", 10 / 1000, "MAPKK-PP"),
        Species("MAPK", 280 / 1000, "MAPK"),
        Species("MAPK_P", 10 / 1000, "MAPK-P"),
        Species("MAPK_PP", 10 / 1000, "MAPK-PP"),
    ]
    reactions = [
        Reaction("J1", ("MKKK",), ("MKKK_P",),
                 "V1 * MKKK / ((1 + (MAPK_PP / Ki) ** n) * (K1 + MKKK))"),
        Reaction("J2", ("MKKK_P",), ("MKKK",), "V2 * MKKK_P / (K2 + MKKK_P)"),
        Reaction("J3", ("MKK",), ("MKK_P",), "k3 * MKKK_P * MKK / (K3 + MKK)"),
        Reaction("J4", ("MKK_P",), ("MKK_PP",), "k4 * MKKK_P * MKK_P / (K4 + MKK_P)"),
        Reaction("J5", ("MKK_PP",), ("MKK_P",), "V5 * MKK_PP / (K5 + MKK_PP)"),
        Reaction("J6", ("MKK_P",), ("MKK",), "V6 * MKK_P / (K6 + MKK_P)"),
        Reaction("J7", ("MAPK",), ("MAPK_P",), "k7 * MKK_PP * MAPK / (K7 + MAPK)"),
        Reaction("J8", ("MAPK_P",), ("MAPK_PP",), "k8 * MKK_PP * MAPK_P / (K8 + MAPK_P)"),
        Reaction("J9", ("MAPK_PP",), ("MAPK_P",), "V9 * MAPK_PP / (K9 + MAPK_PP)"),
        Reaction("J10", ("MAPK_P",), ("MAPK",), "V10 * MAPK_P / (K10 + MAPK_P)"),
    ]  # fmt: skip
    return Network(
        name="kholodenko_2000",
        species=tuple(species),
        parameters=tuple(params),
        reactions=tuple(reactions),
        observables={"MAPK_PP": "MAPK_PP", "MAPK_PP_fraction": "MAPK_PP / 0.3"},
        description="Kholodenko 2000 oscillating MAPK cascade, " + KHOLODENKO_DOI,
    )
