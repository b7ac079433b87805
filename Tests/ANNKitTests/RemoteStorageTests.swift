@testable import ANNFormats
import ANNKit
import Testing
import TestSupport

/// The parts of remote storage that need no server: where an argument points, how the AWS
/// settings are read, how ranges become requests, and what each answer of a store means. The
/// exchanges with real servers are tested by Tests/Remote/remote.py.
@Suite struct RemoteStorageTests {
    @Test func locationsAreParsedOrRefused() throws {
        #expect(try ObjectLocation("data/i.anni") == .file("data/i.anni"))
        #expect(try ObjectLocation("s3://bkt/dir/i.anni") == .s3(bucket: "bkt", key: "dir/i.anni"))
        #expect(try ObjectLocation("HTTPS://host:8080/i.anni") == .http("HTTPS://host:8080/i.anni"))
        #expect(try ObjectLocation("s3://bkt/dir/i.anni").description == "s3://bkt/dir/i.anni")
        for bad in ["s3://bkt", "s3://bkt/", "s3:///key", "ftp://host/x", "http:///x"] {
            #expect(throws: ANNError.self, "\(bad)") { try ObjectLocation(bad) }
        }
        #expect(try !ObjectLocation("x").isRemote && ObjectLocation("s3://b/k").isRemote)
    }

    @Test func environmentComesBeforeTheSharedFiles() throws {
        try withTemporaryDirectory { dir in
            try writeBytes(Array("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n[work]\naws_access_key_id=WORK\naws_secret_access_key=w\n".utf8),
                           to: "\(dir)/credentials")
            try writeBytes(Array("[profile work]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9000/\n".utf8), to: "\(dir)/config")
            let files = ["AWS_SHARED_CREDENTIALS_FILE": "\(dir)/credentials", "AWS_CONFIG_FILE": "\(dir)/config"]
            let fromFile = try S3Configuration.fromEnvironment(files)
            #expect(fromFile.accessKey == "FILEKEY" && fromFile.secretKey == "filesecret" && fromFile.region == "us-east-1")
            #expect(fromFile.endpoint == nil && fromFile.url(bucket: "b", key: "k") == "https://b.s3.us-east-1.amazonaws.com/k")
            let profile = try S3Configuration.fromEnvironment(files.merging(["AWS_PROFILE": "work"]) { a, _ in a })
            #expect(profile.accessKey == "WORK" && profile.region == "eu-west-3")
            #expect(profile.url(bucket: "b", key: "a b+c/d.anni") == "http://127.0.0.1:9000/b/a%20b%2Bc/d.anni")
            let env = try S3Configuration.fromEnvironment(files.merging([
                "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "tok",
                "AWS_DEFAULT_REGION": "ap-south-1", "AWS_ENDPOINT_URL_S3": "https://s3.example", "AWS_ENDPOINT_URL": "http://other",
                "AWS_MAX_ATTEMPTS": "2", "ANN_STORAGE_TIMEOUT": "7",
            ]) { a, _ in a })
            #expect(env.accessKey == "ENVKEY" && env.secretKey == "envsecret" && env.sessionToken == "tok")
            #expect(env.region == "ap-south-1" && env.endpoint == "https://s3.example" && env.maxAttempts == 2 && env.timeout == 7)
            #expect(env.signing?.provider == "aws:amz:ap-south-1:s3" && env.signing?.userpwd == "ENVKEY:envsecret")
            #expect(env.headers(signed: true) == ["x-amz-content-sha256: UNSIGNED-PAYLOAD", "x-amz-security-token: tok"])
        }
        let anonymous = try S3Configuration.fromEnvironment(["HOME": "/nonexistent"])
        #expect(anonymous.signing == nil && anonymous.headers(signed: false).isEmpty)
        #expect(throws: ANNError.self) { try S3Configuration.fromEnvironment(["HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "k"]) }
        #expect(throws: ANNError.self) { try S3Configuration.fromEnvironment(["HOME": "/nonexistent", "AWS_MAX_ATTEMPTS": "0"]) }
        #expect(throws: ANNError.self) { try S3Configuration.fromEnvironment(["HOME": "/nonexistent", "AWS_ENDPOINT_URL": "ftp://x"]) }
    }

    @Test func closeRangesShareARequest() {
        let ranges = [100..<200, 0..<50, 210..<300, 5000..<5100, 60..<60]
        #expect(RangePlan.coalesce(ranges, gap: nil).map(\.span) == [0..<50, 100..<200, 210..<300, 5000..<5100])
        let plan = RangePlan.coalesce(ranges, gap: 50)
        #expect(plan.map(\.span) == [0..<300, 5000..<5100])
        #expect(plan.map(\.members) == [[1, 0, 2], [3]])
        #expect(RangePlan.coalesce(ranges, gap: 0).count == 4)
    }

    @Test func answersAreReadByStatus() {
        func result(_ status: Int, _ body: String = "", transport: String? = nil) -> HTTPResult {
            var r = HTTPResult()
            r.status = status
            r.body = Array(body.utf8)
            r.transportError = transport
            return r
        }
        let xml = "<Error><Code>SignatureDoesNotMatch</Code><Message>bad sig</Message></Error>"
        if case .fail(let e) = RemoteRequests.classify(result(403, xml), name: "s3://b/k") {
            #expect(e == .permission(target: "s3://b/k", message: "access denied (HTTP 403 SignatureDoesNotMatch: bad sig)"))
        } else { Issue.record("403 is not a refusal") }
        if case .fail(let e) = RemoteRequests.classify(result(404), name: "u") { #expect(e.exitCode == 66) } else { Issue.record("404") }
        if case .fail(let e) = RemoteRequests.classify(result(412), name: "u") { #expect(e.description.contains("changed")) } else { Issue.record("412") }
        for retried in [result(500), result(503), result(429), result(0, transport: "Connection refused")] {
            if case .retry = RemoteRequests.classify(retried, name: "u") {} else { Issue.record("\(retried.status) is not retried") }
        }
        #expect(RemoteRequests.classify(result(206), name: "u").isOK)
        #expect(RemoteRequests.contentRange("bytes 976-1023/1024")! == (976..<1024, 1024))
        #expect(RemoteRequests.contentRange("bytes 0-9/*")! == (0..<10, -1))
        for bad in ["bytes */1024", "976-1023/1024", "bytes 9-2/10", "bytes a-b/c"] { #expect(RemoteRequests.contentRange(bad) == nil, "\(bad)") }
    }

    @Test func aStoreAskedForManyRangesAnswersInOneWave() throws {
        let bytes = (0..<10_000).map { UInt8($0 % 251) }
        let store = WaveCounting(bytes: bytes)
        let ranges = [9000..<9100, 10..<20, 5000..<5000, 20..<40]
        let buffers = ranges.map { UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, $0.count), alignment: 1) }
        defer { buffers.forEach { $0.deallocate() } }
        let got = try store.read(ranges: ranges, into: buffers)
        #expect(got == ranges.map(\.count))
        for (r, b) in zip(ranges, buffers) { #expect(Array(b.prefix(r.count)) == Array(bytes[r])) }
        #expect(store.requests(for: ranges) == 2)
    }
}

/// A store that reads every range of one call together, as a remote one does.
private final class WaveCounting: RangeReadable {
    let bytes: [UInt8]
    init(bytes: [UInt8]) { self.bytes = bytes }
    var name: String { "wave" }
    var size: Int { bytes.count }
    var coalescingGap: Int? { 64 }
    var readsConcurrently: Bool { true }

    func read(_ range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let r = range.clamped(to: 0..<bytes.count)
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + r.lowerBound, byteCount: r.count) }
        return r.count
    }
}
