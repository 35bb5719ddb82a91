"""The catalogue: data elements, disaggregations, periods, value types, expressions, indicators
and report forms' definitions (DHIS2's data sets are metadata). The lowest part of indicators."""
