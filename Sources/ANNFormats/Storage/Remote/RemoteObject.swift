import Glibc
import Synchronization

/// An object read by HTTP range requests: a plain `http(s)://` URL, or `s3://bucket/key` signed
/// with SigV4 (`S3Configuration`). Opening it reads its last `tailSize` bytes with one suffix
/// range, which tells its size and ETag and holds the index's trailer; every later read is
/// pinned to that ETag (`If-Match`, and the ETag of every answer compared), so an object
/// replaced while it is read is an error, never a mix of two versions.
///
/// Several ranges are read in one wave of requests in flight together, close ones coalesced
/// (`RangePlan`). A request that fails for a reason that may pass (no connection, a reset, a
/// timeout, HTTP 5xx or 429) is tried again after an exponential backoff, within the
/// configuration's attempts and time; then the read fails as `unavailable`. HTTP 401/403 is
/// `permission`, 404 `missingInput`, at once.
///
/// Threading: reads may run on several threads at once, each on its own connections.
public final class RemoteObject: RangeReadable {
    public let name: String
    public let size: Int
    /// The version every read is pinned to (nil where the server gives none).
    public let etag: String?
    public let coalescingGap: Int? = RemoteObject.defaultGap
    public var readsConcurrently: Bool { true }
    public let url: String

    /// Ranges closer than this are fetched together: a round trip costs more than the bytes.
    public static let defaultGap = 16 << 10
    /// The suffix read on opening: the index's trailer, and small objects whole.
    public static let tailSize = 1 << 16

    private let configuration: S3Configuration
    private let template: HTTPExchange
    private let pool: CurlPool
    private let tail: [UInt8]
    private let tailStart: Int
    private let counters = Mutex(StorageStatistics())

    public init(location: ObjectLocation, configuration: S3Configuration) throws {
        var template: HTTPExchange
        switch location {
        case .file(let p): throw ANNError.usage("\(p): not a URL")
        case .http(let u):
            template = HTTPExchange(url: u)
            template.followRedirects = true
        case .s3(let bucket, let key):
            template = HTTPExchange(url: configuration.url(bucket: bucket, key: key))
            template.sigv4 = configuration.signing
            template.headers = configuration.headers(signed: template.sigv4 != nil)
        }
        name = location.description
        url = template.url
        self.configuration = configuration
        self.template = template
        let pool = CurlPool(maxConnections: configuration.connections)
        self.pool = pool

        // One suffix range: the size (Content-Range), the ETag, and the tail.
        var buffer = [UInt8](repeating: 0, count: Self.tailSize)
        let name = self.name
        var opening = template
        opening.range = "-\(Self.tailSize)"
        let (results, _) = try buffer.withUnsafeMutableBytes { b in
            opening.into = b
            return try RemoteRequests.run([opening], pool: pool, configuration: configuration, name: name) { _, r in
                if r.status == 416 { return .ok }
                if r.overflow { return .fail(.io(target: name, message: "the server does not answer range requests")) }
                return RemoteRequests.classify(r, name: name)
            }
        }
        let r = results[0]
        counters.withLock { $0.requests += 1; $0.waves += 1; $0.bytes += r.received }
        switch r.status {
        case 206:
            guard let cr = r.headers["content-range"].flatMap(RemoteRequests.contentRange), cr.total >= 0,
                  cr.range.count == r.received, cr.range.upperBound == cr.total
            else { throw ANNError.io(target: name, message: "the server's Content-Range does not match the suffix asked for") }
            size = cr.total
            tailStart = cr.range.lowerBound
            tail = Array(buffer[0..<r.received])
        case 416:
            // Only an empty object has no suffix to give.
            size = 0
            tailStart = 0
            tail = []
        default:
            // A whole (small) object in a 200: it fitted the buffer, or `overflow` refused it.
            size = r.received
            tailStart = 0
            tail = Array(buffer[0..<r.received])
        }
        etag = r.headers["etag"]
    }

    public var statistics: StorageStatistics { counters.withLock { $0 } }

    public func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try read(ranges: [range], into: [buffer])[0]
    }

    public func read(ranges: [Range<Int>], into buffers: [UnsafeMutableRawBufferPointer]) throws -> [Int] {
        precondition(ranges.count == buffers.count)
        var got = [Int](repeating: 0, count: ranges.count)
        var wanted = [Range<Int>](repeating: 0..<0, count: ranges.count)
        for (i, asked) in ranges.enumerated() {
            precondition(buffers[i].count >= asked.count)
            let r = asked.clamped(to: 0..<size)
            got[i] = r.count
            if r.isEmpty { continue }
            if r.lowerBound >= tailStart {
                tail.withUnsafeBytes { buffers[i].baseAddress!.copyMemory(from: $0.baseAddress! + (r.lowerBound - tailStart), byteCount: r.count) }
            } else {
                wanted[i] = r
            }
        }
        let plan = RangePlan.coalesce(wanted, gap: coalescingGap)
        if plan.isEmpty { return got }
        // A request serving one range exactly writes into its buffer; others into a span buffer.
        var spans = [UnsafeMutableRawBufferPointer?](repeating: nil, count: plan.count)
        defer { for s in spans { s?.deallocate() } }
        var exchanges = [HTTPExchange]()
        for (j, p) in plan.enumerated() {
            var x = template
            x.range = "\(p.span.lowerBound)-\(p.span.upperBound - 1)"
            if let etag { x.headers.append("If-Match: \(etag)") }
            if p.members.count == 1 && wanted[p.members[0]] == p.span {
                x.into = UnsafeMutableRawBufferPointer(rebasing: buffers[p.members[0]][0..<p.span.count])
            } else {
                spans[j] = .allocate(byteCount: p.span.count, alignment: 16)
                x.into = spans[j]
            }
            exchanges.append(x)
        }
        let size = self.size, etag = self.etag, name = self.name
        let clock = Stopwatch()
        let (results, waves) = try RemoteRequests.run(exchanges, pool: pool, configuration: configuration, name: name) { j, r in
            if case let outcome = RemoteRequests.classify(r, name: name), !outcome.isOK { return outcome }
            let span = plan[j].span
            if let e = etag, let now = r.headers["etag"], now != e {
                return .fail(RemoteRequests.changed(name, detail: "ETag \(e), now \(now)"))
            }
            if r.status == 200 {
                // The whole object instead of a range: only right when that is what was asked.
                return span == 0..<size && r.received == size ? .ok
                    : .fail(.io(target: name, message: "the server answered a range request with the whole object"))
            }
            guard let cr = r.headers["content-range"].flatMap(RemoteRequests.contentRange), cr.range == span, cr.total == size else {
                return .fail(RemoteRequests.changed(name, detail: "Content-Range \(r.headers["content-range"] ?? "missing") for bytes \(span.lowerBound)-\(span.upperBound - 1) of \(size)"))
            }
            return r.received == span.count ? .ok : .retry("short answer (\(r.received) of \(span.count) bytes)")
        }
        let waited = clock.seconds
        counters.withLock {
            $0.requests += results.count
            $0.waves += waves
            $0.bytes += results.reduce(0) { $0 + $1.received }
            $0.seconds += waited
        }
        for (j, p) in plan.enumerated() {
            guard let span = spans[j] else { continue }
            for i in p.members {
                let r = wanted[i]
                buffers[i].baseAddress!.copyMemory(from: span.baseAddress! + (r.lowerBound - p.span.lowerBound), byteCount: r.count)
            }
        }
        return got
    }
}
