"""GraphQL documents, as constants with variables: no values are ever pasted into query text."""

AUTHENTICATE = """
mutation ObtainToken($input: ObtainJSONWebTokenInput!) {
  obtainKrakenToken(input: $input) { token refreshToken refreshExpiresIn payload }
}
"""

_METER_POINT_AGREEMENTS = """
agreements(includeInactive: true) {
  validFrom validTo
  tariff { __typename tariffCode productCode fullName displayName }
}
"""

ACCOUNT_DETAILS = (
    """
query AccountDetails($account: String!) {
  account(accountNumber: $account) {
    properties {
      id
      electricityMeterPoints {
        mpan direction
        meters(includeInactive: true) {
          serialNumber activeFrom activeTo meterType
          smartImportElectricityMeter { deviceId }
          smartExportElectricityMeter { deviceId }
        }
        """
    + _METER_POINT_AGREEMENTS
    + """
      }
      gasMeterPoints {
        mprn
        meters(includeInactive: true) {
          serialNumber activeFrom activeTo consumptionUnits mechanism
          smartGasMeter { deviceId }
        }
        """
    + _METER_POINT_AGREEMENTS
    + """
      }
    }
  }
  devices(accountNumber: $account) {
    id deviceType provider
    status { current currentState }
    ... on SmartFlexVehicle { make model }
    ... on SmartFlexChargePoint { make model }
  }
}
"""
)

# One call answers the device's state, what it plans and what it did (the last 12 hours or so).
DISPATCHES = """
query Dispatches($account: String!, $device: String!) {
  devices(accountNumber: $account, deviceId: $device) { id status { current currentState } }
  flexPlannedDispatches(deviceId: $device) { start end type energyAddedKwh }
  completedDispatches(accountNumber: $account) { start end delta meta { source location } }
}
"""

# The deprecated account-wide query, for where flexPlannedDispatches is not offered.
DISPATCHES_LEGACY = """
query DispatchesLegacy($account: String!, $device: String!) {
  devices(accountNumber: $account, deviceId: $device) { id status { current currentState } }
  plannedDispatches(accountNumber: $account) { start end delta meta { source location } }
  completedDispatches(accountNumber: $account) { start end delta meta { source location } }
}
"""

# A Home Mini's readings over a range: every 10-second reading since the last poll in one call.
TELEMETRY = """
query Telemetry($device: String!, $start: DateTime!, $end: DateTime!, $grouping: TelemetryGrouping!) {
  smartMeterTelemetry(deviceId: $device, start: $start, end: $end, grouping: $grouping) {
    readAt consumption consumptionDelta demand export
  }
}
"""
