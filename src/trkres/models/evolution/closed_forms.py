"""Closed forms of the multi-type birth–death model (the analytic checks of the simulator).

Notation as Bozic et al. (eLife 2013;2:e00747, CC-BY): birth rate ``b`` and death rate
``d`` per cell per day before treatment, ``d'`` on a drug the cell does not resist,
``s = 1 − d/b`` (survival probability of a lineage founded by one cell), ``s' = 1 −
d'/b`` (< 0 on treatment), detection size ``M`` cells, ``u`` the probability per
division of one resistance mutation (Bozic's point-mutation rate times the number of
sites, u·n).

* :func:`p_resistance_at_detection`: resistant cells present when the tumour reaches M
  (Iwasa, Nowak & Michor 2006, Genetics 172:2557; Bozic 2013 ``p1``):
  ``1 − exp(M u log(s) / (1 − s))``.
* :func:`p_cure_single_drug`: eradication under one drug whose resistant cells keep b
  and d (Komarova & Wodarz 2005 for resistance before, Michor et al. 2006 for resistance
  arising during treatment; Bozic 2013 ``p1↑ p1↓``): ``exp(−M u) · exp(M u s / s')``.
* :func:`p_cure_dual`: Bozic 2013 equation (1) for two drugs with ``n1``, ``n2`` sites
  resisting one drug and ``n12`` resisting both.
* :func:`expected_resistant_cells`: Bozic 2013's X ≈ M μ, μ = (u/s) log(M s).

These hold for M ≫ 1 and M·u small (the limit of the paper); the tests compare
simulations with them within k standard errors.
"""

from __future__ import annotations

import math

from trkres.errors import InputError

__all__ = [
    "expected_resistant_cells",
    "p_cure_dual",
    "p_cure_single_drug",
    "p_resistance_at_detection",
    "transient_resistant_mean",
]


def _check(**values: float) -> None:
    import numbers

    for name, value in values.items():
        real: object = value
        if (
            type(real) is bool
            or not isinstance(real, numbers.Real)
            or not math.isfinite(float(real))
        ):
            raise InputError(f"bad argument {name}", expected="a finite number", found=repr(value))


def _probability(value: float, what: str) -> float:
    """A closed form's result, refused when the formula has left its domain (a value
    outside [0, 1] or not finite means the approximation does not hold there)."""
    if not (math.isfinite(value) and -1e-12 <= value <= 1 + 1e-12):
        raise InputError(f"{what}: the closed form does not hold for these arguments",
                         expected="arguments where the formula gives a probability "
                         "(rare mutations: size × u × sites well below 1e6)",
                         found=f"{value!r}")  # fmt: skip
    return min(max(value, 0.0), 1.0)


def _s(birth: float, death: float) -> float:
    _check(birth=birth, death=death)
    if not birth > death >= 0:
        raise InputError("the tumour must grow before treatment",
                         expected="birth > death >= 0 (per day)", found=f"birth {birth}, death {death}")  # fmt: skip
    return 1.0 - death / birth


def _m_u(size: float, u: float) -> None:
    _check(size=size, u=u)
    if not size >= 1:
        raise InputError("bad argument size", expected="cells >= 1", found=repr(size))
    if not 0 <= u <= 1:
        raise InputError("bad argument u", expected="a probability per division in [0, 1]",
                         found=repr(u))  # fmt: skip


def p_resistance_at_detection(size: float, u: float, birth: float, death: float) -> float:
    """Probability that resistant cells (one mutation away, probability ``u`` per
    division) are alive when a tumour grown from one cell reaches ``size`` cells."""
    _m_u(size, u)
    s = _s(birth, death)
    # log(s)/(1 − s) → −1 as death → 0 (s → 1): no death, every lineage survives
    ratio = -1.0 if s == 1.0 else math.log(s) / (1.0 - s)
    return -math.expm1(size * u * ratio)


def p_cure_single_drug(
    size: float, u: float, birth: float, death: float, death_on_drug: float
) -> float:
    """Probability that one drug eradicates a tumour treated at ``size`` cells: no
    resistant lineage that survives arose before (exp(−M u)) or during (exp(M u s/s'))
    treatment. Resistant cells keep ``birth`` and ``death``; sensitive ones die at
    ``death_on_drug`` (> birth)."""
    _m_u(size, u)
    s = _s(birth, death)
    _check(death_on_drug=death_on_drug)
    s_on = 1.0 - death_on_drug / birth
    if not s_on < 0:
        raise InputError("the drug does not shrink sensitive cells",
                         expected="death_on_drug > birth", found=f"{death_on_drug}")  # fmt: skip
    return math.exp(-size * u) * math.exp(size * u * s / s_on)


def p_cure_dual(
    size: float,
    u: float,
    birth: float,
    death: float,
    death_on_drug: float,
    n1: float,
    n2: float,
    n12: float,
) -> float:
    """Bozic 2013 equation (1): probability that two drugs given together eradicate a
    lesion of ``size`` cells, with ``n1``/``n2`` sites resisting one drug, ``n12`` both,
    ``u`` per site per division."""
    _m_u(size, u)
    s = _s(birth, death)
    _check(death_on_drug=death_on_drug, n1=n1, n2=n2, n12=n12)
    for name, value in (("n1", n1), ("n2", n2), ("n12", n12)):
        if not 0 <= value <= 1e6:
            raise InputError(f"bad argument {name}", expected="a number of sites, 0 to 1e6",
                             found=repr(value))  # fmt: skip
    sp = 1.0 - death_on_drug / birth
    if not sp < 0:
        raise InputError("the drugs do not shrink sensitive cells",
                         expected="death_on_drug > birth", found=f"{death_on_drug}")  # fmt: skip
    m = size
    try:
        return _dual(m, u, s, sp, n1, n2, n12)
    except (OverflowError, ValueError, ZeroDivisionError):
        return _probability(math.nan, "p_cure_dual")


def _dual(m: float, u: float, s: float, sp: float, n1: float, n2: float, n12: float) -> float:
    p1_up = math.exp(-m * u * n12)
    p1_down = math.exp(m * u * n12 * s / sp)
    k = (sp - s) / (s * sp)
    p2_up = math.exp(
        m * u * u * k * (
            n1 * (n2 + n12) * math.log(1.0 / (s * m) + u * (n2 + n12) * k)
            + n2 * (n1 + n12) * math.log(1.0 / (s * m) + u * (n1 + n12) * k)
        )
    )  # fmt: skip
    p2_down = math.exp(-m * u * u * (2 * n1 * n2 + n12 * (n1 + n2)) * s / (sp * sp))
    return _probability(p1_up * p1_down * p2_up * p2_down, "p_cure_dual")


def expected_resistant_cells(size: float, u: float, birth: float, death: float) -> float:
    """Bozic 2013: expected resistant cells (one step, ``u`` per division) at ``size``;
    the formula holds for ``size × (1 − death/birth) > 1`` (else 0 is returned: the
    asymptotic form has no meaning for so small a tumour)."""
    _m_u(size, u)
    s = _s(birth, death)
    return max(0.0, size * u / s * math.log(size * s))


def transient_resistant_mean(
    size: float, u: float, source_birth: float, source_death: float,
    birth: float, death: float,
) -> float:  # fmt: skip
    """Expected number of resistant clones alive at detection that will *not* survive
    forever (born at rate ``u·b₀·N₀(t)`` from a source growing at ``b₀ − d₀``; each alive
    at age ``a`` with probability ``1 − α(a)``, surviving forever with ``max(0, 1 − d/b)``).

    The hybrid engine simulates only the clones that survive; this mean (one number per
    scenario) adds the others to ``resistant_at_start`` as a Poisson count. Numerical
    integral (scipy ``quad``)."""
    from scipy.integrate import quad

    lam0 = source_birth - source_death
    lam = birth - death
    p_forever = max(0.0, lam / birth) if birth > 0 else 0.0
    t_det = math.log(size) / lam0

    def alive(a: float) -> float:
        if birth <= 0:
            return math.exp(-death * a)
        if abs(lam) < 1e-12:
            return 1.0 / (1.0 + birth * a)
        if lam > 0:
            e = math.exp(-lam * a)
            return lam / (birth - death * e)
        e = math.exp(lam * a)
        return -lam * e / (death - birth * e)

    def integrand(a: float) -> float:
        return math.exp(-lam0 * a) * (alive(a) - p_forever)

    value, _ = quad(integrand, 0.0, t_det, limit=200)
    return max(0.0, u * source_birth * size * float(value))
