"""The TRK-fusion signalling network: fusion kinase → SOS → RAS → RAF → MEK → ERK, PI3K → AKT.

25 species, mass-action and Michaelis–Menten rate laws, concentrations in µM, time in
hours (see docs/signalling.md for the diagram, every equation and every parameter's
source). Mechanisms, not tags:

- the fusion kinase autophosphorylates constitutively (partner-driven dimerisation);
  TRK inhibitors occupy it (competitively, by each drug's constant for the fusion's
  kinase form) and an occupied kinase neither autophosphorylates nor signals;
- MET (amplified: more receptor, ligand-independent activity) is a second receptor input
  that TRK inhibitors do not touch; crizotinib and cabozantinib occupy it;
- receptor signal activates SOS; active SOS loads RAS with GTP; GAPs and intrinsic
  hydrolysis unload it. Mutant KRAS (G12/G13/Q61) is a separate RAS pool whose GAP-driven
  and intrinsic hydrolysis are reduced, so it stays GTP-loaded without receptor input;
- RAS-GTP activates RAF; BRAF V600E is a RAS-independent active RAF monomer pool that
  dabrafenib occupies (paradoxical activation of wild-type RAF dimers is not modelled);
- RAF phosphorylates MEK twice, active MEK (not occupied by an allosteric MEK inhibitor)
  phosphorylates ERK twice (distributive, Huang & Ferrell 1996); phosphatases undo both;
- negative feedback: ERK phosphorylates SOS (inactive SOS) and induces DUSP, which
  dephosphorylates ERK;
- receptor signal (and RAS-GTP, weakly) activates PI3K, which phosphorylates AKT;
- a cell-number species grows with an ERK-driven division rate and dies at a rate that
  falls with pAKT: 72 h viability is N(72 h) relative to untreated.
"""

from __future__ import annotations

from trkres.models.signalling.drugs import DRUGS, TARGETS
from trkres.models.signalling.network import Network, Parameter, Reaction, Species

__all__ = ["CORE_PARAMETERS", "READOUTS", "trk_network"]

A = "assumption"

#: Species: name, initial amount (µM; cells relative), description.
SPECIES = (
    ("TRK", 0.05, "fusion kinase, unphosphorylated"),
    ("pTRK", 0.05, "fusion kinase, autophosphorylated"),
    ("MET", 0.02, "MET receptor, inactive"),
    ("pMET", 0.0, "MET receptor, phosphorylated"),
    ("SOS", 0.1, "SOS (with GRB2), inactive"),
    ("SOSa", 0.0, "SOS, active (receptor-bound)"),
    ("SOSi", 0.0, "SOS phosphorylated by ERK (feedback, inactive)"),
    ("RasGDP", 0.4, "wild-type RAS, GDP-bound"),
    ("RasGTP", 0.0, "wild-type RAS, GTP-bound"),
    ("RasMGDP", 0.0, "mutant KRAS (G12/G13/Q61), GDP-bound"),
    ("RasMGTP", 0.0, "mutant KRAS, GTP-bound"),
    ("RAF", 0.1, "RAF, inactive"),
    ("RAFa", 0.0, "RAF, active (RAS-driven)"),
    ("MEK", 1.0, "MEK, unphosphorylated"),
    ("pMEK1", 0.0, "MEK, monophosphorylated"),
    ("ppMEK", 0.0, "MEK, doubly phosphorylated (active)"),
    ("ERK", 1.0, "ERK, unphosphorylated"),
    ("pERK1", 0.0, "ERK, monophosphorylated"),
    ("ppERK", 0.0, "ERK, doubly phosphorylated (active; the pERK readout)"),
    ("DUSP", 0.0, "ERK-induced dual-specificity phosphatase"),
    ("PI3K", 0.1, "PI3K, inactive"),
    ("PI3Ka", 0.0, "PI3K, active"),
    ("AKT", 0.5, "AKT, unphosphorylated"),
    ("pAKT", 0.0, "AKT, phosphorylated (active)"),
    ("N", 1.0, "viable cells, relative to the start"),
)

#: Core kinetic parameters: name, value, unit, description, source.
CORE_PARAMETERS: tuple[tuple[str, float, str, str, str], ...] = (
    ("k_trk_p", 6.0, "1/h", "fusion autophosphorylation rate (unoccupied kinase)", A),
    ("k_trk_dp", 6.0, "1/h", "pTRK dephosphorylation rate", A),
    ("k_met_p", 0.2, "1/h", "ligand-independent MET phosphorylation rate", A),
    ("k_met_dp", 6.0, "1/h", "pMET dephosphorylation rate", A),
    ("w_met", 1.0, "1", "signalling weight of active MET relative to active TRK", A),
    ("k_sos", 100.0, "1/(µM·h)", "SOS activation per µM receptor signal", A),
    ("km_sos", 0.1, "µM", "Michaelis constant of SOS activation", A),
    ("k_sos_off", 6.0, "1/h", "active SOS release", A),
    ("k_fb", 0.05, "1/(µM·h)", "ERK → SOS inhibitory phosphorylation per µM ppERK", A),
    ("km_fb", 0.05, "µM", "Michaelis constant of the feedback phosphorylation", A),
    ("k_fb_off", 0.5, "1/h", "recovery of ERK-phosphorylated SOS", A),
    ("k_gef", 65.0, "1/h", "RAS GTP loading per µM active SOS (catalytic, saturable)", A),
    ("km_gef", 0.2, "µM", "Michaelis constant of GTP loading", A),
    ("k_ex", 0.3, "1/h", "intrinsic (SOS-independent) nucleotide exchange, first order", A),
    ("k_gap", 30.0, "1/h", "GAP-stimulated GTP hydrolysis (wild-type RAS)", A),
    ("k_int", 1.5, "1/h", "intrinsic GTP hydrolysis (wild-type RAS)", A),
    ("f_gap_mut", 0.0, "1", "GAP-stimulated hydrolysis of mutant KRAS relative to wild type", A),
    ("f_int_mut", 1.0, "1", "intrinsic hydrolysis of mutant KRAS relative to wild type", A),
    ("k_raf", 6.75, "1/(µM·h)", "RAF activation per µM RAS-GTP", A),
    ("km_raf", 0.1, "µM", "Michaelis constant of RAF activation", A),
    ("k_raf_off", 6.0, "1/h", "RAF inactivation", A),
    ("braf_v600e", 0.0, "µM", "active BRAF V600E monomer (0 without the mutation)", A),
    ("k_mek", 280.0, "1/(µM·h)", "MEK phosphorylation per µM active RAF (each site)", A),
    ("km_mek", 0.5, "µM", "Michaelis constant of MEK phosphorylation", A),
    ("v_mekp", 6.0, "µM/h", "maximal MEK dephosphorylation rate (each site)", A),
    ("km_mekp", 0.5, "µM", "Michaelis constant of MEK dephosphorylation", A),
    ("k_erk", 35.0, "1/(µM·h)", "ERK phosphorylation per µM active MEK (each site)", A),
    ("km_erk", 0.5, "µM", "Michaelis constant of ERK phosphorylation", A),
    ("v_erkp", 3.0, "µM/h", "maximal basal ERK dephosphorylation rate (each site)", A),
    ("k_dusp", 60.0, "1/h", "DUSP-catalysed ERK dephosphorylation per µM DUSP", A),
    ("km_erkp", 0.5, "µM", "Michaelis constant of ERK dephosphorylation", A),
    ("k_dusp_syn0", 0.002, "µM/h", "basal DUSP synthesis", A),
    ("k_dusp_syn", 0.066, "µM/h", "maximal ERK-induced DUSP synthesis", A),
    ("km_dusp", 0.3, "µM", "ppERK giving half-maximal DUSP induction", A),
    ("k_dusp_deg", 0.7, "1/h", "DUSP degradation (half-life ~1 h)", A),
    ("k_pi3k", 70.0, "1/(µM·h)", "PI3K activation per µM receptor signal", A),
    ("k_pi3k_ras", 1.0, "1/(µM·h)", "PI3K activation per µM RAS-GTP", A),
    ("km_pi3k", 0.1, "µM", "Michaelis constant of PI3K activation", A),
    ("k_pi3k_off", 6.0, "1/h", "PI3K inactivation", A),
    ("k_akt", 50.0, "1/(µM·h)", "AKT phosphorylation per µM active PI3K", A),
    ("km_akt", 0.5, "µM", "Michaelis constant of AKT phosphorylation", A),
    ("k_akt_off", 3.0, "1/h", "pAKT dephosphorylation", A),
    ("growth_on", 1.0, "1", "1 during treatment, 0 while the untreated steady state is found", A),
    ("b_max", 0.04, "1/h", "maximal division rate", A),
    ("ke_growth", 0.15, "µM", "ppERK giving half-maximal division rate", A),
    ("n_growth", 2.0, "1", "Hill coefficient of ERK-driven division", A),
    ("d_0", 0.005, "1/h", "death rate with full AKT survival signal", A),
    ("d_1", 0.02, "1/h", "extra death rate without AKT survival signal", A),
    ("ka_growth", 0.1, "µM", "pAKT giving half-maximal survival", A),
)

#: Readouts (observables) and their formulas: what a western or a viability assay measures.
READOUTS = {
    "pTRK": "pTRK",
    "pMEK": "pMEK1 + ppMEK",
    "pERK": "ppERK",
    "pAKT": "pAKT",
    "viability": "N",
}


def _load(target: str) -> str:
    """Σ C/K over the drugs acting on ``target`` (the occupancy load, dimensionless)."""
    return " + ".join(f"c_{short} / K_{target}_{short}" for _, short in DRUGS)


def trk_network() -> Network:
    """The TRK-fusion network with every drug's concentration and constants as parameters.

    Drug concentrations ``c_<drug>`` are in nM (0 by default) and constants
    ``K_<target>_<drug>`` in nM (``1e30`` by default: no effect); a genotype and a
    treatment set them (:mod:`trkres.models.signalling.genotype`).
    """
    species = tuple(Species(n, v, d) for n, v, d in SPECIES)
    params = [Parameter(n, v, u, d, s) for n, v, u, d, s in CORE_PARAMETERS]
    for drug_id, short in DRUGS:
        params.append(Parameter(f"c_{short}", 0.0, "nM", f"{drug_id} concentration", "treatment"))
    for target in TARGETS:
        for drug_id, short in DRUGS:
            params.append(
                Parameter(
                    f"K_{target}_{short}",
                    1e30,
                    "nM",
                    f"{drug_id} occupancy constant on {target}",
                    "see drugs.py",
                )
            )
    free_trk = f"(1 + {_load('TRK')})"
    free_met = f"(1 + {_load('MET')})"
    free_mek = f"(1 + {_load('MEK')})"
    free_braf = f"(1 + {_load('BRAF')})"
    signal = f"(pTRK / {free_trk} + w_met * pMET / {free_met})"
    ras_gtp = "(RasGTP + RasMGTP)"
    raf_active = f"(RAFa + braf_v600e / {free_braf})"
    mek_active = f"(ppMEK / {free_mek})"
    erk_phosphatase = "(v_erkp + k_dusp * DUSP)"
    r = Reaction
    reactions = (
        r("trk_autophosphorylation", ("TRK",), ("pTRK",), f"k_trk_p * TRK / {free_trk}"),
        r("trk_dephosphorylation", ("pTRK",), ("TRK",), "k_trk_dp * pTRK"),
        r("met_phosphorylation", ("MET",), ("pMET",), f"k_met_p * MET / {free_met}"),
        r("met_dephosphorylation", ("pMET",), ("MET",), "k_met_dp * pMET"),
        r("sos_activation", ("SOS",), ("SOSa",), f"k_sos * {signal} * SOS / (km_sos + SOS)"),
        r("sos_release", ("SOSa",), ("SOS",), "k_sos_off * SOSa"),
        r("sos_feedback", ("SOSa",), ("SOSi",), "k_fb * ppERK * SOSa / (km_fb + SOSa)"),
        r("sos_recovery", ("SOSi",), ("SOS",), "k_fb_off * SOSi"),
        r("ras_gtp_loading", ("RasGDP",), ("RasGTP",),
          "k_gef * SOSa * RasGDP / (km_gef + RasGDP + RasMGDP) + k_ex * RasGDP"),
        r("ras_hydrolysis", ("RasGTP",), ("RasGDP",), "(k_gap + k_int) * RasGTP"),
        r("kras_mut_gtp_loading", ("RasMGDP",), ("RasMGTP",),
          "k_gef * SOSa * RasMGDP / (km_gef + RasGDP + RasMGDP) + k_ex * RasMGDP"),
        r("kras_mut_hydrolysis", ("RasMGTP",), ("RasMGDP",),
          "(f_gap_mut * k_gap + f_int_mut * k_int) * RasMGTP"),
        r("raf_activation", ("RAF",), ("RAFa",), f"k_raf * {ras_gtp} * RAF / (km_raf + RAF)"),
        r("raf_inactivation", ("RAFa",), ("RAF",), "k_raf_off * RAFa"),
        r("mek_phosphorylation_1", ("MEK",), ("pMEK1",),
          f"k_mek * {raf_active} * MEK / (km_mek + MEK + pMEK1)"),
        r("mek_phosphorylation_2", ("pMEK1",), ("ppMEK",),
          f"k_mek * {raf_active} * pMEK1 / (km_mek + MEK + pMEK1)"),
        r("mek_dephosphorylation_2", ("ppMEK",), ("pMEK1",),
          "v_mekp * ppMEK / (km_mekp + ppMEK + pMEK1)"),
        r("mek_dephosphorylation_1", ("pMEK1",), ("MEK",),
          "v_mekp * pMEK1 / (km_mekp + ppMEK + pMEK1)"),
        r("erk_phosphorylation_1", ("ERK",), ("pERK1",),
          f"k_erk * {mek_active} * ERK / (km_erk + ERK + pERK1)"),
        r("erk_phosphorylation_2", ("pERK1",), ("ppERK",),
          f"k_erk * {mek_active} * pERK1 / (km_erk + ERK + pERK1)"),
        r("erk_dephosphorylation_2", ("ppERK",), ("pERK1",),
          f"{erk_phosphatase} * ppERK / (km_erkp + ppERK + pERK1)"),
        r("erk_dephosphorylation_1", ("pERK1",), ("ERK",),
          f"{erk_phosphatase} * pERK1 / (km_erkp + ppERK + pERK1)"),
        r("dusp_synthesis", (), ("DUSP",),
          "k_dusp_syn0 + k_dusp_syn * ppERK ** 2 / (km_dusp ** 2 + ppERK ** 2)"),
        r("dusp_degradation", ("DUSP",), (), "k_dusp_deg * DUSP"),
        r("pi3k_activation", ("PI3K",), ("PI3Ka",),
          f"(k_pi3k * {signal} + k_pi3k_ras * {ras_gtp}) * PI3K / (km_pi3k + PI3K)"),
        r("pi3k_inactivation", ("PI3Ka",), ("PI3K",), "k_pi3k_off * PI3Ka"),
        r("akt_phosphorylation", ("AKT",), ("pAKT",), "k_akt * PI3Ka * AKT / (km_akt + AKT)"),
        r("akt_dephosphorylation", ("pAKT",), ("AKT",), "k_akt_off * pAKT"),
        r("division", ("N",), ("N", "N"),
          "growth_on * b_max * ppERK ** n_growth / (ke_growth ** n_growth + ppERK ** n_growth) * N"),
        r("death", ("N",), (), "growth_on * (d_0 + d_1 * ka_growth / (ka_growth + pAKT)) * N"),
    )  # fmt: skip
    return Network(
        name="trk_fusion_signalling",
        species=species,
        parameters=tuple(params),
        reactions=reactions,
        observables=dict(READOUTS),
        description=__doc__ or "",
    )
