/// The part one slice of a query file contributes to a merge (ann-formats(5), SHARD PARTS):
/// checksummed text, so that what a merge sums and ranks is never read damaged.
public struct ShardPart: Sendable, Equatable {
    public enum Kind: String, Sendable { case sweep, duplication }

    public static let firstLine = "ann-tools part 1"
    /// Parts are small (a row per setting, or per marked query); a larger file is not one.
    public static let maxBytes = 1 << 30

    public var kind: Kind
    public var shard: Shard
    /// The slice's queries, of `total` in the whole file.
    public var records: Range<Int>
    public var total: Int
    /// What every part of one merge must share, in order: a name and its values.
    public var identity: [[String]]
    public var columns: [String]
    public var rows: [[String]]

    public init(kind: Kind, shard: Shard, total: Int, identity: [[String]], columns: [String], rows: [[String]] = []) {
        self.kind = kind
        self.shard = shard
        self.records = shard.records(of: total)
        self.total = total
        self.identity = identity
        self.columns = columns
        self.rows = rows
    }

    public var text: String {
        var s = Self.firstLine + "\n"
        s += "kind\t\(kind.rawValue)\nshard\t\(shard)\nrecords\t\(records.lowerBound)\t\(records.upperBound)\t\(total)\n"
        for f in identity { s += f.joined(separator: "\t") + "\n" }
        s += (["columns"] + columns).joined(separator: "\t") + "\n"
        for r in rows { s += (["row"] + r).joined(separator: "\t") + "\n" }
        let crc = Checksum.crc32c(Array(s.utf8))
        return s + "crc32c\t" + Self.hex(crc) + "\n"
    }

    /// Writes the part to `output` (committed by the caller).
    public func write(to output: OutputFile) throws {
        try output.sink.write(Array(text.utf8))
    }

    /// Parses a part, its checksum first; `source` names it in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws -> ShardPart {
        func bad(_ m: String) -> ANNError { .badData(source: source, message: m) }
        guard bytes.count <= maxBytes else { throw bad("larger than any shard part (\(maxBytes >> 20) MiB)") }
        let head = Array((firstLine + "\n").utf8)
        guard bytes.starts(with: head) else { throw bad("not an ann-tools shard part (its first line is not \"\(firstLine)\")") }
        // The last line is "crc32c\t" and 8 hex digits; nothing before it is looked at unverified.
        let tail = 7 + 8 + 1
        guard bytes.count >= head.count + tail, bytes.last == 10,
              Array(bytes[(bytes.count - tail)..<(bytes.count - 9)]) == Array("crc32c\t".utf8),
              bytes[bytes.count - tail - 1] == 10 else { throw bad("truncated shard part (no checksum line at its end)") }
        let digits = String(decoding: bytes[(bytes.count - 9)..<(bytes.count - 1)], as: UTF8.self)
        guard let stored = UInt32(digits, radix: 16), digits == hex(stored) else { throw bad("unreadable checksum line") }
        let body = Array(bytes[0..<(bytes.count - tail)])
        guard Checksum.crc32c(body) == stored else { throw bad("checksum mismatch: the shard part is damaged") }
        guard let text = String(validating: body, as: UTF8.self) else { throw bad("not UTF-8 text") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().dropLast().map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        func take(_ name: String, fields: Int) throws -> [String] {
            guard let l = lines.first, l.first == name, l.count == fields + 1 else { throw bad("expected a \"\(name)\" line of \(fields) field\(fields == 1 ? "" : "s")") }
            lines.removeFirst()
            return Array(l.dropFirst())
        }
        guard let kind = Kind(rawValue: try take("kind", fields: 1)[0]) else { throw bad("unknown kind of part") }
        let shard = try Shard(parsing: try take("shard", fields: 1)[0])
        let r = try take("records", fields: 3).map { Int($0) }
        guard let first = r[0], let end = r[1], let total = r[2], total >= 0, total < 1 << 48 else { throw bad("unreadable records line") }
        var part = ShardPart(kind: kind, shard: shard, total: total, identity: [], columns: [])
        guard part.records == first..<max(first, end), first < end else {
            throw bad("records \(first)..<\(end) of \(total) are not slice \(shard) (\(part.records.lowerBound)..<\(part.records.upperBound))")
        }
        while let l = lines.first, l.first != "columns" {
            guard l.count >= 2, let name = l.first, !name.isEmpty, name != "row" else { throw bad("an identity line without a value, before the columns") }
            part.identity.append(l)
            lines.removeFirst()
        }
        guard let c = lines.first, c.count >= 2 else { throw bad("no columns line") }
        part.columns = Array(c.dropFirst())
        lines.removeFirst()
        for (i, l) in lines.enumerated() {
            guard l.first == "row", l.count == part.columns.count + 1 else {
                throw bad("row \(i + 1): expected \(part.columns.count) fields after \"row\"")
            }
            part.rows.append(Array(l.dropFirst()))
        }
        return part
    }

    /// Refuses parts that are not slices 0 to N−1 of one file, in order, of one `kind`, with
    /// one identity and one set of columns; `names` name them in errors.
    public static func checkSequence(_ parts: [ShardPart], names: [String], kind: Kind, columns: [String]) throws {
        precondition(parts.count == names.count && !parts.isEmpty)
        for (i, p) in parts.enumerated() {
            func bad(_ m: String) -> ANNError { .badData(source: names[i], message: m) }
            guard p.kind == kind else { throw bad("a \(p.kind.rawValue) part, not a \(kind.rawValue) part") }
            guard p.columns == columns else { throw bad("columns \(p.columns.joined(separator: ",")), expected \(columns.joined(separator: ","))") }
            guard p.shard.count == parts.count else { throw bad("shard \(p.shard) of \(p.shard.count), but \(parts.count) parts are merged") }
            guard p.shard.index == i else { throw bad("shard \(p.shard) given as part \(i + 1): parts go in shard order") }
            guard p.total == parts[0].total else { throw bad("a part of a file of \(p.total) queries, part 1's has \(parts[0].total)") }
            guard p.identity == parts[0].identity else {
                let field = zip(p.identity, parts[0].identity).first(where: { $0 != $1 })?.0.first ?? "identity"
                throw bad("its \(field) differs from part 1's: the parts are not of one run")
            }
        }
    }

    /// The value of identity field `name`, if the part has it.
    public func field(_ name: String) -> [String]? { identity.first { $0.first == name }.map { Array($0.dropFirst()) } }
}

extension ShardPart {
    /// 8 lowercase hexadecimal digits.
    public static func hex(_ v: UInt32) -> String { padded(String(v, radix: 16), 8) }
    /// 16 lowercase hexadecimal digits.
    public static func hex(_ v: UInt64) -> String { padded(String(v, radix: 16), 16) }
    private static func padded(_ s: String, _ n: Int) -> String { String(repeating: "0", count: n - s.count) + s }
}
