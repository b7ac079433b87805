/// The kinds of native stream, told apart by their four-byte magic (see ann-formats(5)).
public enum StreamKind: String, CaseIterable, Sendable {
    case vectors = "ANNV"
    case neighbors = "ANNN"
    case assignment = "ANNA"
    case model = "ANNM"
    case index = "ANNI"

    public var magic: [UInt8] { Array(rawValue.utf8) }

    /// How a message names a stream of this kind.
    public var noun: String {
        switch self {
        case .vectors: return "vectors"
        case .neighbors: return "a neighbour list"
        case .assignment: return "an assignment"
        case .model: return "a router model"
        case .index: return "a packed index"
        }
    }

    public init?(magic bytes: some Collection<UInt8>) {
        guard bytes.count >= 4, let k = StreamKind.allCases.first(where: { $0.magic.elementsEqual(bytes.prefix(4)) })
        else { return nil }
        self = k
    }
}
