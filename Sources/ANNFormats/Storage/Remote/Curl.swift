import CCurl
import Glibc
import Synchronization

/// One HTTP exchange as the remote backends ask for it: a method, a URL, headers, an optional
/// body, and where the response body goes.
struct HTTPExchange: @unchecked Sendable {
    var method = "GET"
    var url: String
    var headers: [String] = []
    /// "bytes=a-b" or "bytes=-n" without the "bytes=" (libcurl's CURLOPT_RANGE).
    var range: String?
    /// A request body (PUT and POST), sent as it is.
    var body: UnsafeRawBufferPointer?
    /// Where a successful (2xx) response body goes; nil collects it (bounded) in `HTTPResult.body`.
    var into: UnsafeMutableRawBufferPointer?
    /// SigV4 signing: libcurl's provider string ("aws:amz:REGION:s3") and "KEY:SECRET".
    var sigv4: (provider: String, userpwd: String)?
    var followRedirects = false
    /// Limits of one try: connecting, and the whole exchange.
    var connectTimeout = 10.0
    var timeout = 120.0
}

/// What came back: a status (0 when no response arrived), the headers by lower-cased name, the
/// collected body, the bytes put in `into`, and libcurl's word when the transfer failed.
struct HTTPResult: Sendable {
    var status = 0
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    var received = 0
    /// More bytes arrived than `into` holds (a server that ignored the range).
    var overflow = false
    /// libcurl's message when the transfer itself failed (connection refused, reset, timeout).
    var transportError: String?
}

/// libcurl, the one door to it: a set of exchanges run at once on one multi handle, which keeps
/// its connections alive from one call to the next. Not thread-safe itself; `CurlPool` hands
/// each caller its own.
final class CurlClient {
    private let multi: UnsafeMutableRawPointer
    private var idle: [UnsafeMutableRawPointer] = []
    private let maxConnections: Int

    /// ANN_CURL_VERBOSE=1: libcurl describes every exchange on stderr (for debugging a store).
    static let verbose: Bool = { getenv("ANN_CURL_VERBOSE").map { String(cString: $0) == "1" } ?? false }()

    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    init(maxConnections: Int) {
        _ = Self.globalInit
        multi = curl_multi_init()
        self.maxConnections = maxConnections
        _ = ann_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        _ = ann_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnections)
    }

    deinit {
        for h in idle { curl_easy_cleanup(h) }
        curl_multi_cleanup(multi)
    }

    /// Runs every exchange, all in flight at once (up to the connection limit; libcurl queues
    /// the rest), and returns their results in order.
    func perform(_ exchanges: [HTTPExchange]) -> [HTTPResult] {
        var transfers = [Transfer]()
        transfers.reserveCapacity(exchanges.count)
        for x in exchanges {
            let handle = idle.popLast() ?? curl_easy_init()!
            curl_easy_reset(handle)
            let t = Transfer(handle: handle, exchange: x)
            transfers.append(t)
            t.configure()
            if curl_multi_add_handle(multi, handle) != CURLM_OK { t.result.transportError = "cannot start the request" }
        }
        var byHandle = [UnsafeMutableRawPointer: Transfer]()
        for t in transfers { byHandle[t.handle] = t }
        var running: Int32 = 1
        while running > 0 {
            guard curl_multi_perform(multi, &running) == CURLM_OK else { break }
            while true {
                var left: Int32 = 0
                guard let msg = curl_multi_info_read(multi, &left) else { break }
                guard msg.pointee.msg == CURLMSG_DONE, let h = msg.pointee.easy_handle, let t = byHandle[h] else { continue }
                t.finish(code: msg.pointee.data.result)
            }
            if running > 0 { _ = curl_multi_poll(multi, nil, 0, 1000, nil) }
        }
        for t in transfers {
            curl_multi_remove_handle(multi, t.handle)
            if !t.finished && t.result.transportError == nil { t.result.transportError = "the transfer did not finish" }
            t.release()
            idle.append(t.handle)
        }
        return transfers.map(\.result)
    }

    /// The state of one transfer, reached from libcurl's callbacks through their user pointer.
    private final class Transfer {
        let handle: UnsafeMutableRawPointer
        let exchange: HTTPExchange
        var result = HTTPResult()
        var finished = false
        private var headerList: UnsafeMutablePointer<curl_slist>?
        private var sent = 0
        private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        private var me: Unmanaged<Transfer>?
        /// An error body is kept up to this size, for its message.
        static let maxCollected = 1 << 20

        init(handle: UnsafeMutableRawPointer, exchange: HTTPExchange) {
            self.handle = handle
            self.exchange = exchange
            errorBuffer[0] = 0
        }

        func configure() {
            let h = handle
            let x = exchange
            me = Unmanaged.passRetained(self)
            let user = UnsafeRawPointer(me!.toOpaque())
            _ = ann_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            if CurlClient.verbose { _ = ann_curl_setopt_long(h, CURLOPT_VERBOSE, 1) }
            _ = x.url.withCString { ann_curl_setopt_ptr(h, CURLOPT_URL, $0) }
            _ = ann_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, errorBuffer)
            _ = ann_curl_setopt_callback(h, CURLOPT_WRITEFUNCTION, curlWrite)
            _ = ann_curl_setopt_ptr(h, CURLOPT_WRITEDATA, user)
            _ = ann_curl_setopt_callback(h, CURLOPT_HEADERFUNCTION, curlHeader)
            _ = ann_curl_setopt_ptr(h, CURLOPT_HEADERDATA, user)
            _ = ann_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(x.connectTimeout * 1000))
            _ = ann_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(x.timeout * 1000))
            _ = ann_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
            _ = ann_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, x.followRedirects ? 1 : 0)
            _ = ann_curl_setopt_long(h, CURLOPT_MAXREDIRS, 5)
            // Bytes are stored compressed by us; a transfer encoding would only cost time.
            _ = ann_curl_setopt_ptr(h, CURLOPT_ACCEPT_ENCODING, nil)
            if let r = x.range { _ = r.withCString { ann_curl_setopt_ptr(h, CURLOPT_RANGE, $0) } }
            if let s = x.sigv4 {
                _ = s.provider.withCString { ann_curl_setopt_ptr(h, CURLOPT_AWS_SIGV4, $0) }
                _ = s.userpwd.withCString { ann_curl_setopt_ptr(h, CURLOPT_USERPWD, $0) }
            }
            switch x.method {
            case "GET": break
            case "HEAD": _ = ann_curl_setopt_long(h, CURLOPT_NOBODY, 1)
            case "PUT":
                _ = ann_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
                _ = ann_curl_setopt_offset(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(x.body?.count ?? 0))
                _ = ann_curl_setopt_callback(h, CURLOPT_READFUNCTION, curlRead)
                _ = ann_curl_setopt_ptr(h, CURLOPT_READDATA, user)
            case "POST":
                // The body as libcurl's own copy, as `curl --data-binary` sends it.
                _ = ann_curl_setopt_long(h, CURLOPT_POSTFIELDSIZE, x.body?.count ?? 0)
                let empty: [UInt8] = [0]
                _ = empty.withUnsafeBytes { ann_curl_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, x.body?.baseAddress ?? $0.baseAddress!) }
            default: _ = x.method.withCString { ann_curl_setopt_ptr(h, CURLOPT_CUSTOMREQUEST, $0) }
            }
            // (An "Expect:" line to skip 100-continue would be signed by libcurl's SigV4 as a
            // header the server never sees.)
            for line in x.headers { headerList = line.withCString { curl_slist_append(headerList, $0) } }
            if let headerList { _ = ann_curl_setopt_ptr(h, CURLOPT_HTTPHEADER, headerList) }
        }

        func finish(code: CURLcode) {
            finished = true
            var status = 0
            _ = ann_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            result.status = status
            if code != CURLE_OK && !(code == CURLE_WRITE_ERROR && result.overflow) {
                let detail = String(cString: errorBuffer)
                result.transportError = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
                result.status = 0
            }
        }

        func release() {
            if let headerList { curl_slist_free_all(headerList) }
            headerList = nil
            me?.release()
            me = nil
        }

        deinit { errorBuffer.deallocate() }

        /// A 2xx body goes to `into` when there is one; any other body is collected for its
        /// message.
        func received(_ bytes: UnsafeRawBufferPointer) -> Bool {
            var status = 0
            _ = ann_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            if let dest = exchange.into, (200..<300).contains(status) {
                guard result.received + bytes.count <= dest.count else { result.overflow = true; return false }
                (dest.baseAddress! + result.received).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                result.received += bytes.count
            } else {
                guard result.body.count + bytes.count <= Self.maxCollected else { result.overflow = true; return false }
                result.body.append(contentsOf: bytes)
            }
            return true
        }

        func header(_ bytes: UnsafeRawBufferPointer) {
            // A new status line (a redirect, an interim response) starts a new set of headers.
            if bytes.starts(with: "HTTP/".utf8) { result.headers = [:]; return }
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
            let blank: Set<UInt8> = [9, 10, 13, 32]
            var lo = colon + 1, hi = bytes.count
            while lo < hi && blank.contains(bytes[lo]) { lo += 1 }
            while hi > lo && blank.contains(bytes[hi - 1]) { hi -= 1 }
            let name = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
            result.headers[name] = String(decoding: bytes[lo..<hi], as: UTF8.self)
        }

        func send(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            guard let body = exchange.body else { return 0 }
            let n = min(buffer.count, body.count - sent)
            if n > 0 { buffer.baseAddress!.copyMemory(from: body.baseAddress! + sent, byteCount: n) }
            sent += n
            return n
        }

        static func from(_ user: UnsafeMutableRawPointer?) -> Transfer { Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue() }
    }

    fileprivate static func write(_ p: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
        let n = size * count
        return Transfer.from(user).received(UnsafeRawBufferPointer(start: p, count: n)) ? n : 0
    }

    fileprivate static func header(_ p: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
        let n = size * count
        Transfer.from(user).header(UnsafeRawBufferPointer(start: p, count: n))
        return n
    }

    fileprivate static func read(_ p: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
        Transfer.from(user).send(into: UnsafeMutableRawBufferPointer(start: p, count: size * count))
    }
}

private let curlWrite: ann_curl_data_callback = { CurlClient.write($0, $1, $2, $3) }
private let curlHeader: ann_curl_data_callback = { CurlClient.header($0, $1, $2, $3) }
private let curlRead: ann_curl_data_callback = { CurlClient.read($0, $1, $2, $3) }

/// Clients for any number of threads: each call borrows an idle one (or makes one) and gives it
/// back, so that connections stay alive across calls without two threads sharing a handle.
final class CurlPool: Sendable {
    private let idle = Mutex<[UnsafeClient]>([])
    private let maxConnections: Int

    init(maxConnections: Int) { self.maxConnections = maxConnections }

    func perform(_ exchanges: [HTTPExchange]) -> [HTTPResult] {
        let client = idle.withLock { $0.popLast() } ?? UnsafeClient(CurlClient(maxConnections: maxConnections))
        defer { idle.withLock { $0.append(client) } }
        return client.value.perform(exchanges)
    }

    /// A client moved between threads: only one thread uses it at a time (the pool's lock).
    private struct UnsafeClient: @unchecked Sendable {
        let value: CurlClient
        init(_ value: CurlClient) { self.value = value }
    }
}
