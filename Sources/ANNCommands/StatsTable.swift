import ANNKit
import Foundation

/// The per-query TSV that ann-query --stats writes, read back by column name.
struct StatsTable {
    /// The columns ann-query writes; tables from before `requests` existed are read as well.
    static let columns = ["query", "clusters", "vectors", "bytes", "requests", "micros"]
    let header: [String]
    let values: [[Int]]
    /// The name in messages: the path, or <stdin> for "-".
    let source: String
    var rows: Int { values.count }

    /// Reads the table from `path`, or from standard input for "-".
    init(path: String) throws {
        let text = try readTextFile(path)
        let path = path == "-" ? "<stdin>" : path
        source = path
        let lines = text.split(separator: "\n")
        guard let first = lines.first else { throw ANNError.badData(source: path, message: "empty input") }
        header = first.split(separator: "\t").map(String.init)
        for c in ["query", "clusters", "vectors", "bytes", "micros"] where !header.contains(c) {
            throw ANNError.badData(source: path, message: "not an ann-query stats table (no column \(c))")
        }
        var v = [[Int]]()
        for (i, line) in lines.dropFirst().enumerated() {
            let f = line.split(separator: "\t").compactMap { Int($0) }
            guard f.count == header.count else { throw ANNError.badData(source: path, message: "line \(i + 2): expected \(header.count) integers") }
            v.append(f)
        }
        values = v
    }

    func has(_ name: String) -> Bool { header.contains(name) }

    func column(_ name: String) -> [Int] {
        let i = header.firstIndex(of: name)!
        return values.map { $0[i] }
    }
}
