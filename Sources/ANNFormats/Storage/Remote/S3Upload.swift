import Glibc

/// Puts a finished local file into S3 as one multipart upload, completed only when every part
/// is stored, so that a reader sees the old object or the whole new one, never a part; on any
/// failure the upload is aborted and nothing appears under the key.
enum S3Upload {
    /// Parts of at least this size (S3's minimum is 5 MiB; a key takes at most 10,000 parts).
    static let minimumPart = 8 << 20
    /// Parts in flight at once (each held in memory while it is sent).
    static let partsInFlight = 4

    /// Uploads the `size` bytes of the open file `fd` to `bucket`/`key`. `name` names the
    /// object in errors.
    static func upload(fd: Int32, size: Int, bucket: String, key: String, name: String, configuration c: S3Configuration) throws {
        let pool = CurlPool(maxConnections: partsInFlight)
        var template = HTTPExchange(url: c.url(bucket: bucket, key: key))
        template.sigv4 = c.signing
        template.headers = c.headers(signed: template.sigv4 != nil)
        template.timeout = c.timeout
        let base = template.url

        var create = template
        create.method = "POST"
        create.url = base + "?uploads="
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        create.body = empty
        let started = try RemoteRequests.run([create], pool: pool, configuration: c, name: name) { _, r in
            RemoteRequests.classify(r, name: name)
        }.0[0]
        guard let uploadID = RemoteRequests.element("UploadId", in: started.body), !uploadID.isEmpty else {
            throw ANNError.io(target: name, message: "the store started no multipart upload (no UploadId in its answer)")
        }
        let query = "uploadId=\(S3Configuration.encode(uploadID).replacingSlashes())"
        do {
            let partSize = max(minimumPart, (size + 9_999) / 10_000)
            let parts = max(1, (size + partSize - 1) / partSize)
            var etags = [String](repeating: "", count: parts)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(partsInFlight, parts) * max(1, min(partSize, size)), alignment: 16)
            defer { buffer.deallocate() }
            var first = 0
            while first < parts {
                let group = Array(first..<min(parts, first + partsInFlight))
                var exchanges = [HTTPExchange]()
                for (slot, p) in group.enumerated() {
                    let lo = p * partSize, n = min(partSize, size - lo)
                    let dest = UnsafeMutableRawBufferPointer(rebasing: buffer[(slot * min(partSize, size))...].prefix(n))
                    try readFully(fd, into: dest, at: lo, name: name)
                    var x = template
                    x.method = "PUT"
                    x.url = base + "?partNumber=\(p + 1)&\(query)"
                    x.body = UnsafeRawBufferPointer(dest)
                    exchanges.append(x)
                }
                let (answers, _) = try RemoteRequests.run(exchanges, pool: pool, configuration: c, name: name) { _, r in
                    let outcome = RemoteRequests.classify(r, name: name)
                    guard outcome.isOK else { return outcome }
                    return r.headers["etag"] == nil ? .fail(.io(target: name, message: "the store gave no ETag for a part")) : .ok
                }
                for (slot, p) in group.enumerated() { etags[p] = answers[slot].headers["etag"]! }
                first += group.count
            }
            var xml = "<CompleteMultipartUpload>"
            for (i, e) in etags.enumerated() { xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(e)</ETag></Part>" }
            xml += "</CompleteMultipartUpload>"
            let body = Array(xml.utf8)
            try body.withUnsafeBytes { b in
                var complete = template
                complete.method = "POST"
                complete.url = base + "?\(query)"
                complete.body = b
                complete.headers.append("Content-Type: application/xml")
                // S3 may answer 200 and still report an error in the body.
                _ = try RemoteRequests.run([complete], pool: pool, configuration: c, name: name) { _, r in
                    let outcome = RemoteRequests.classify(r, name: name)
                    guard outcome.isOK else { return outcome }
                    return RemoteRequests.element("Error", in: r.body) == nil ? .ok
                        : .fail(.io(target: name, message: "the multipart upload was not completed:\(RemoteRequests.serverDetail(r))"))
                }
            }
        } catch {
            var abort = template
            abort.method = "DELETE"
            abort.url = base + "?\(query)"
            abort.timeout = min(c.timeout, 30)
            _ = pool.perform([abort])
            throw error
        }
    }

    private static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, name: String) throws {
        var done = 0
        while done < buffer.count {
            let r = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if r > 0 { done += r; continue }
            if r < 0 && errno == EINTR { continue }
            throw ANNError.io(target: name, message: "reading the staged upload failed: \(r == 0 ? "short file" : errnoText(errno))")
        }
    }
}

extension String {
    /// Percent-encodes "/" too: an upload id is a query value, not a path.
    fileprivate func replacingSlashes() -> String {
        var out = ""
        for ch in self { out += ch == "/" ? "%2F" : String(ch) }
        return out
    }
}
