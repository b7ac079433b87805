// The helpers every test target shares, visible in every file of this one.
@_exported import TestSupport
