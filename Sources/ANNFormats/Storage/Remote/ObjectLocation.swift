/// Where an object lives, as a tool's argument names it: a local path, an `http://` or
/// `https://` URL, or `s3://bucket/key` (an S3 or S3-compatible store, configured as the AWS CLI
/// is: see `S3Configuration`).
public enum ObjectLocation: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case http(String)
    case s3(bucket: String, key: String)

    /// Reads `text`: a URL for the schemes above, a path for anything without "://". Refuses an
    /// unknown scheme and an S3 URL without a bucket or a key.
    public init(_ text: String) throws {
        guard let sep = text.firstRange(of: "://") else { self = .file(text); return }
        let scheme = text[..<sep.lowerBound].lowercased(), rest = text[sep.upperBound...]
        switch scheme {
        case "http", "https":
            guard let host = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first, !host.isEmpty else {
                throw ANNError.usage("\(text): a URL needs a host")
            }
            self = .http(text)
        case "s3":
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ANNError.usage("\(text): an S3 URL names a bucket and a key: s3://BUCKET/KEY")
            }
            self = .s3(bucket: String(parts[0]), key: String(parts[1]))
        default:
            throw ANNError.usage("\(text): unknown scheme \(scheme)://; use a path, http(s):// or s3://")
        }
    }

    public var isRemote: Bool {
        if case .file = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .file(let p): return p
        case .http(let u): return u
        case .s3(let b, let k): return "s3://\(b)/\(k)"
        }
    }

    /// Opens the object for reading by range: a `LocalFile`, or a `RemoteObject` configured from
    /// the environment.
    public func open() throws -> any RangeReadable {
        switch self {
        case .file(let path): return try LocalFile(path: path)
        case .http, .s3: return try RemoteObject(location: self, configuration: try S3Configuration.fromEnvironment())
        }
    }

    /// Opens what `text` names (see `init(_:)`).
    public static func open(_ text: String) throws -> any RangeReadable {
        try ObjectLocation(text).open()
    }
}
