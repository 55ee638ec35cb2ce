"""Physical and unit constants used in more than one place: one definition each."""

#: Molar mass ratio CO2 / C [t CO2 per t C] (44.01 / 12.011, rounded as in IPCC 2006,
#: Guidelines for National Greenhouse Gas Inventories, vol. 4, eq. 2.7).
CO2_PER_C = 44.0 / 12.0
#: Tonnes per gram [t g-1].
T_PER_G = 1e-6
#: Square metres per square kilometre [m2 km-2].
M2_PER_KM2 = 1e6
#: 0 °C in kelvin [K].
KELVIN_AT_0C = 273.15
#: Seconds per day / 1e6 J per MJ: a mean flux of 1 W m-2 over one day is 0.0864 MJ m-2.
MJ_PER_W_DAY = 86400.0 / 1e6
#: 1 kWh = 3.6 MJ.
MJ_PER_KWH = 3.6
