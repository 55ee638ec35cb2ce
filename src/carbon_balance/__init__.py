"""carbon-balance: does a region's vegetation offset its emissions?

The pipeline, in the order of the sub-packages:

study file (:mod:`carbon_balance.study`) -> inputs and alignment (:mod:`carbon_balance.grid`)
-> CASA NPP, Rh and NEP (:mod:`carbon_balance.casa`) -> accounting per unit
(:mod:`carbon_balance.accounting`) -> indicators and zoning (:mod:`carbon_balance.balance`)
-> analysis (:mod:`carbon_balance.analysis`) -> figures and report
(:mod:`carbon_balance.figures`, :mod:`carbon_balance.report`).

The method is Fan et al. (2024), Land 13:297, https://doi.org/10.3390/land13030297 ;
its scientific contract is ``docs/method.md``.
"""

__version__ = "0.1.0"
