import Glibc

/// Every failure the core library reports. The command layer turns each case into a one-line
/// message and a sysexits status; the library itself never prints or exits.
public enum ANNError: Error, Equatable, CustomStringConvertible {
    /// The request itself is wrong (conflicting options, k larger than the data, ...): EX_USAGE.
    case usage(String)
    /// An input exists but holds something we cannot use: EX_DATAERR.
    case badData(source: String, message: String)
    /// An input could not be opened: EX_NOINPUT.
    case missingInput(source: String, message: String)
    /// An output could not be created: EX_CANTCREAT.
    case cantCreate(target: String, message: String)
    /// Reading or writing failed half-way: EX_IOERR.
    case io(target: String, message: String)
    /// The reader of our stdout went away; a filter treats this as a normal end.
    case brokenPipe

    public var description: String {
        switch self {
        case .usage(let m): return m
        case .badData(let s, let m), .missingInput(let s, let m): return "\(s): \(m)"
        case .cantCreate(let t, let m), .io(let t, let m): return "\(t): \(m)"
        case .brokenPipe: return "broken pipe"
        }
    }

    /// The sysexits(3) status a tool exits with for this error.
    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .badData: return 65
        case .missingInput: return 66
        case .cantCreate: return 73
        case .io: return 74
        case .brokenPipe: return 0
        }
    }
}

/// The text of a C errno value.
@inline(never)
public func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
