import Glibc

/// Every failure the core library reports, by kind. The command layer turns each case into a
/// one-line message and an exit status; the library itself never prints or exits.
public enum ANNError: Error, Equatable, CustomStringConvertible {
    /// The request itself is wrong (conflicting settings, k larger than the data, ...).
    case usage(String)
    /// An input exists but holds something we cannot use.
    case badData(source: String, message: String)
    /// An input could not be opened.
    case missingInput(source: String, message: String)
    /// An output could not be created.
    case cantCreate(target: String, message: String)
    /// Reading or writing failed half-way.
    case io(target: String, message: String)
    /// A service (a remote store) did not answer, or kept failing, within the time allowed.
    case unavailable(target: String, message: String)
    /// A service refused access (wrong or missing credentials, no permission).
    case permission(target: String, message: String)
    /// The reader of our stdout went away; a filter treats this as a normal end.
    case brokenPipe
    /// `source` (holding `what`, where it says) was made for the metric `recorded`, but
    /// `expected` is wanted: the metric the request names when `against` is nil (a wrong
    /// request), else the one `against`, another input, records (two inputs that contradict
    /// each other). Kept as data, so that the command layer can name its own option.
    case metricMismatch(source: String, what: String?, recorded: Metric, expected: Metric, against: String?)

    public var description: String {
        switch self {
        case .usage(let m): return m
        case .badData(let s, let m), .missingInput(let s, let m): return "\(s): \(m)"
        case .cantCreate(let t, let m), .io(let t, let m), .unavailable(let t, let m), .permission(let t, let m): return "\(t): \(m)"
        case .brokenPipe: return "broken pipe"
        case .metricMismatch(let source, let what, let recorded, let expected, let against):
            return Self.metricMessage(source: source, what: what, recorded: recorded, expected: expected, against: against,
                                      naming: "metric")
        }
    }

    /// The message of `metricMismatch`, with `naming` before the recorded metric's name.
    public static func metricMessage(source: String, what: String?, recorded: Metric, expected: Metric, against: String?,
                                     naming: String) -> String {
        guard let against else { return "\(source) was made for \(naming) \(recorded.rawValue), not \(expected.rawValue)" }
        return "\(source): \(what ?? "made") for \(naming) \(recorded.rawValue), \(against) for \(expected.rawValue)"
    }
}

/// The text of a C errno value.
@inline(never)
public func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
