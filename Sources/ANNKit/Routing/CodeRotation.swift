/// Whether a PQ router codes its vectors' residuals as they are or rotated first.
public enum CodeRotation: String, Sendable, CaseIterable {
    /// Codes of the residuals as they are.
    case none
    /// Codes of the residuals rotated by an orthogonal matrix learnt with the codebooks
    /// (`ProductQuantizer.trainRotated`).
    case opq

    public static let standard = CodeRotation.opq
}
