/// What every router model (ann-formats(5), ANNM) shares whatever its architecture: the stream
/// header, then these fixed fields, then 4-byte words, then a CRC-32C. A PQ router keeps the
/// model's body as it is read, so its memory footprint counts the fixed fields too.
public enum ModelLayout {
    /// Bytes of fixed fields after the header.
    public static let fixedSize = 32
}
