import Glibc

/// The retry loop and the reading of answers that every remote request shares.
enum RemoteRequests {
    /// What one answer means.
    enum Outcome {
        case ok
        /// May pass: try again after a backoff.
        case retry(String)
        case fail(ANNError)

        var isOK: Bool {
            if case .ok = self { return true }
            return false
        }
    }

    /// Runs `exchanges` in waves until `judge` accepts every answer: the first wave puts them all
    /// in flight, each later one the answers to retry, after an exponential backoff with jitter
    /// (0.1 s doubling, at most 5 s). Gives up as `unavailable` after the configured attempts or
    /// time; throws the first `fail` at once. Returns the accepted answers and the waves used.
    static func run(_ exchanges: [HTTPExchange], pool: CurlPool, configuration: S3Configuration, name: String,
                    judge: (Int, HTTPResult) -> Outcome) throws -> ([HTTPResult], Int) {
        let clock = Stopwatch()
        var results = [HTTPResult](repeating: HTTPResult(), count: exchanges.count)
        var pending = Array(exchanges.indices)
        var attempt = 0, waves = 0
        var lastReason = ""
        while !pending.isEmpty {
            let seconds = configuration.timeout - clock.seconds
            if attempt >= configuration.maxAttempts || seconds <= 0 {
                throw ANNError.unavailable(target: name, message: "no usable answer after \(attempt) \(attempt == 1 ? "try" : "tries"): \(lastReason)")
            }
            var wave = pending.map { exchanges[$0] }
            for i in wave.indices { wave[i].timeout = min(wave[i].timeout, max(seconds, 0.1)) }
            let answers = pool.perform(wave)
            waves += 1
            attempt += 1
            var again = [Int]()
            for (slot, i) in pending.enumerated() {
                results[i] = answers[slot]
                switch judge(i, answers[slot]) {
                case .ok: break
                case .retry(let why): again.append(i); lastReason = why
                case .fail(let error): throw error
                }
            }
            pending = again
            if !pending.isEmpty && attempt < configuration.maxAttempts {
                let backoff = min(0.1 * Double(1 << min(attempt - 1, 6)), 5) * Double.random(in: 0.5...1)
                if configuration.timeout - clock.seconds > backoff { usleep(UInt32(backoff * 1e6)) }
            }
        }
        return (results, waves)
    }

    /// The meaning of an answer's status alone: transport failures, 5xx and 429 may pass; 401
    /// and 403 are a refusal, 404 a missing object, 412 and 416 an object that changed.
    static func classify(_ r: HTTPResult, name: String) -> Outcome {
        if let e = r.transportError { return .retry(e) }
        let detail = serverDetail(r)
        switch r.status {
        case 200..<300: return .ok
        case 429, 500..<600: return .retry("HTTP \(r.status)\(detail)")
        case 401, 403: return .fail(.permission(target: name, message: "access denied (HTTP \(r.status)\(detail))"))
        case 404: return .fail(.missingInput(source: name, message: "no such object (HTTP 404\(detail))"))
        case 412, 416: return .fail(changed(name, detail: "HTTP \(r.status)\(detail)"))
        default: return .fail(.io(target: name, message: "HTTP \(r.status)\(detail)"))
        }
    }

    /// The error of an object replaced while it was read.
    static func changed(_ name: String, detail: String) -> ANNError {
        .io(target: name, message: "the object changed while it was read (\(detail)); run again to read the new version")
    }

    /// " Code: Message" from an S3 error body, or nothing.
    static func serverDetail(_ r: HTTPResult) -> String {
        let body = Array(r.body.prefix(4096))
        switch (element("Code", in: body), element("Message", in: body)) {
        case let (c?, m?): return " \(c): \(m)"
        case let (c?, nil): return " \(c)"
        default: return ""
        }
    }

    /// The text of the first `<tag>` element of an XML answer: nil where there is none, "" for
    /// one that is empty or not closed.
    static func element(_ tag: String, in body: [UInt8]) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        guard let a = text.firstRange(of: "<\(tag)>") else { return text.contains("<\(tag) ") ? "" : nil }
        guard let b = text[a.upperBound...].firstRange(of: "</\(tag)>") else { return "" }
        return String(text[a.upperBound..<b.lowerBound])
    }

    /// "bytes A-B/TOTAL" as the range A..<B+1 and TOTAL (-1 for "*").
    static func contentRange(_ text: String) -> (range: Range<Int>, total: Int)? {
        guard text.hasPrefix("bytes ") else { return nil }
        let body = text.dropFirst(6)
        let parts = body.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let ends = parts[0].split(separator: "-", maxSplits: 1)
        guard ends.count == 2, let a = Int(ends[0]), let b = Int(ends[1]), a >= 0, b >= a else { return nil }
        let total = parts[1] == "*" ? -1 : Int(parts[1])
        guard let total, b < Int.max else { return nil }
        return (a..<(b + 1), total)
    }
}
