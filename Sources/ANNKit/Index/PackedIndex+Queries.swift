extension PackedIndex {
    /// Refuses queries of another dimension than the index's vectors.
    public func checkQueries(_ queries: VectorReader) throws {
        guard queries.dim == dim else {
            throw ANNError.badData(source: queries.name, message: "queries have dimension \(queries.dim), the index \(dim)")
        }
    }
}
