/// The records of an .ivecs or .ibin file read whole: neighbour ids or cluster numbers.
struct IntegerRecords {
    var dim: Int
    var values: [Int32]

    /// Reads fixed-length records; TEXMEX records of another length are an error.
    static func read(_ input: InputFile) throws -> IntegerRecords {
        let shape = try input.readForeignShape(valueSize: 4)
        let d = shape.dim
        var values = [Int32]()
        // A count the file's length confirmed sizes storage; an unconfirmed one (a pipe) only
        // up to a bound, the rest growing as records arrive.
        if let c = shape.count { values.reserveCapacity(input.byteSize != nil ? c * d : min(c * d, NeighborList.unverifiedReserve)) }
        var row = [Int32](repeating: 0, count: d)
        var r = 0
        var first = true
        while shape.count == nil || r < shape.count! {
            if input.format.isTexmex && !first, try !input.readRecordDimension(record: r, expecting: d) { break }
            first = false
            let n = try row.withUnsafeMutableBytes { try input.reader.read(into: $0) }
            if n == 0 && !input.format.isTexmex && shape.count == nil { break }
            guard n == 4 * d else {
                throw ANNError.badData(source: input.name, message: "record \(r): truncated (\(n) of \(4 * d) bytes)")
            }
            values.append(contentsOf: row.map { Int32(littleEndian: $0) })
            r += 1
        }
        if r == 0 { throw ANNError.badData(source: input.name, message: "empty input") }
        return IntegerRecords(dim: d, values: values)
    }
}
