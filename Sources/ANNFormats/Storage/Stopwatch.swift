/// Monotonic time for the timings the tools report, as seconds since `init`.
public struct Stopwatch: Sendable {
    private let start = ContinuousClock.now

    public init() {}

    public var seconds: Double { (ContinuousClock.now - start) / .seconds(1) }
}
