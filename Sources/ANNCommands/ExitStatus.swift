import ANNKit

/// How the tools report the library's errors: the sysexits(3) status of each kind, and the
/// message with the options that the library does not know about.
extension ANNError {
    /// The sysexits(3) status a tool exits with for this error.
    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .badData: return 65
        case .missingInput: return 66
        case .cantCreate: return 73
        case .io: return 74
        case .unavailable: return 69
        case .permission: return 77
        case .brokenPipe: return 0
        case .metricMismatch(_, _, _, _, let against): return against == nil ? 64 : 65
        }
    }

    /// The one line a tool prints: the library's message, naming the option that would have
    /// settled the matter (--metric, --from) where the library can only name the setting.
    public var toolMessage: String {
        switch self {
        case .metricMismatch(let source, let what, let recorded, let expected, let against):
            return ANNError.metricMessage(source: source, what: what, recorded: recorded, expected: expected, against: against,
                                          naming: "--metric")
        case .badData(let source, InputFile.unnamedForm):
            return "\(source): \(InputFile.unnamedForm); name it with --from \(Self.foreignForms)"
        case .badData(let source, InputFile.unnamedStdinForm):
            return "\(source): not an ann-tools stream; name the form of stdin with --from \(Self.foreignForms)"
        default:
            return description
        }
    }

    private static let foreignForms = "fvecs|bvecs|ivecs|fbin|u8bin|ibin"
}
