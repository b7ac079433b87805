import Glibc

/// How remote objects are reached, read the way the AWS CLI reads it: the environment first
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
/// `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_PROFILE`), then the
/// shared files (`AWS_SHARED_CREDENTIALS_FILE`, default ~/.aws/credentials; `AWS_CONFIG_FILE`,
/// default ~/.aws/config) for the profile. Without keys, requests go unsigned (public buckets).
/// With an endpoint, buckets are addressed by path (`ENDPOINT/BUCKET/KEY`, as S3-compatible
/// stores want); without one, by virtual host on AWS (`https://BUCKET.s3.REGION.amazonaws.com/KEY`).
///
/// Retries and limits: `AWS_MAX_ATTEMPTS` tries of a request (default 5), backing off
/// exponentially, within `ANN_STORAGE_TIMEOUT` seconds for one read, retries included (default
/// 60); `ANN_STORAGE_CONNECTIONS` requests in flight at once (default 32).
public struct S3Configuration: Sendable, Equatable {
    public var accessKey: String?
    public var secretKey: String?
    public var sessionToken: String?
    public var region = "us-east-1"
    public var endpoint: String?
    public var maxAttempts = 5
    public var timeout = 60.0
    public var connections = 32

    public init() {}

    /// The configuration from `environment` and the files it points to.
    public static func fromEnvironment(_ environment: [String: String] = Self.processEnvironment()) throws -> S3Configuration {
        var c = S3Configuration()
        let env = { (name: String) -> String? in
            guard let v = environment[name], !v.isEmpty else { return nil }
            return v
        }
        let home = env("HOME") ?? "/"
        let profile = env("AWS_PROFILE") ?? "default"
        let credentials = readProfile(path: env("AWS_SHARED_CREDENTIALS_FILE") ?? "\(home)/.aws/credentials", section: profile)
        let config = readProfile(path: env("AWS_CONFIG_FILE") ?? "\(home)/.aws/config",
                                 section: profile == "default" ? "default" : "profile \(profile)")
        if let key = env("AWS_ACCESS_KEY_ID") {
            c.accessKey = key
            c.secretKey = env("AWS_SECRET_ACCESS_KEY")
            c.sessionToken = env("AWS_SESSION_TOKEN")
        } else {
            c.accessKey = credentials["aws_access_key_id"]
            c.secretKey = credentials["aws_secret_access_key"]
            c.sessionToken = credentials["aws_session_token"]
        }
        if c.accessKey != nil && c.secretKey == nil {
            throw ANNError.usage("an access key is set (AWS_ACCESS_KEY_ID or the credentials file) without its secret key")
        }
        c.region = env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? config["region"] ?? c.region
        c.endpoint = env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL") ?? config["endpoint_url"]
        if let e = c.endpoint {
            guard e.hasPrefix("http://") || e.hasPrefix("https://") else {
                throw ANNError.usage("endpoint \(e) (AWS_ENDPOINT_URL) is not an http:// or https:// URL")
            }
            while c.endpoint!.hasSuffix("/") { c.endpoint!.removeLast() }
        }
        c.maxAttempts = try number(env("AWS_MAX_ATTEMPTS"), name: "AWS_MAX_ATTEMPTS", default: c.maxAttempts, range: 1...100)
        c.timeout = Double(try number(env("ANN_STORAGE_TIMEOUT"), name: "ANN_STORAGE_TIMEOUT", default: Int(c.timeout), range: 1...86_400))
        c.connections = try number(env("ANN_STORAGE_CONNECTIONS"), name: "ANN_STORAGE_CONNECTIONS", default: c.connections, range: 1...1024)
        return c
    }

    /// The URL of `key` in `bucket`.
    public func url(bucket: String, key: String) -> String {
        let path = Self.encode(key)
        if let endpoint { return "\(endpoint)/\(bucket)/\(path)" }
        return "https://\(bucket).s3.\(region).amazonaws.com/\(path)"
    }

    /// libcurl's SigV4 settings, or nil for unsigned requests.
    var signing: (provider: String, userpwd: String)? {
        guard let accessKey, let secretKey else { return nil }
        return ("aws:amz:\(region):s3", "\(accessKey):\(secretKey)")
    }

    /// Headers every S3 request carries: the payload hash that S3 wants (the body is not
    /// signed: every frame carries its own checksum), and a session token.
    func headers(signed: Bool) -> [String] {
        guard signed else { return [] }
        return ["x-amz-content-sha256: UNSIGNED-PAYLOAD"] + (sessionToken.map { ["x-amz-security-token: \($0)"] } ?? [])
    }

    /// A key as S3 wants it in a path: every byte but the unreserved ones and "/" percent-encoded.
    static func encode(_ key: String) -> String {
        var out = ""
        for b in key.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }

    private static func number(_ text: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw ANNError.usage("\(name)=\(text) is not a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// The `key = value` lines of `[section]` in an INI file; nothing when the file is absent.
    static func readProfile(path: String, section: String) -> [String: String] {
        guard let f = fopen(path, "r") else { return [:] }
        defer { fclose(f) }
        var values = [String: String]()
        var inSection = false
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0 {
            let text = String(cString: line!).trimmed
            if text.hasPrefix("#") || text.hasPrefix(";") || text.isEmpty { continue }
            if text.hasPrefix("[") && text.hasSuffix("]") {
                inSection = String(text.dropFirst().dropLast()).trimmed == section
                continue
            }
            guard inSection, let eq = text.firstIndex(of: "=") else { continue }
            values[String(text[..<eq]).trimmed.lowercased()] = String(text[text.index(after: eq)...]).trimmed
        }
        return values
    }

    public static func processEnvironment() -> [String: String] {
        var env = [String: String]()
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return env
    }
}

extension String {
    fileprivate var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
