import Glibc

/// Monotonic time for the timings the tools report.
public struct Stopwatch: Sendable {
    public let start: Double

    public init() { start = Stopwatch.now() }

    public var seconds: Double { Stopwatch.now() - start }

    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
