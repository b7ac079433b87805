import ANNCommands
import ANNKit
import Testing

/// The error `body` throws, as an `ANNError`; records an issue when it throws nothing or something else.
public func annError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ANNError? {
    #expect(throws: ANNError.self, sourceLocation: sourceLocation) { try body() }
}

/// Runs `body`, which must throw an `ANNError` with exit status `status` whose message holds
/// each of `words`; returns the error.
@discardableResult
public func expectRefusal(status: Int32 = 65, mentioning words: String..., sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: () throws -> Void) -> ANNError? {
    let e = annError(body, sourceLocation: sourceLocation)
    #expect(e?.exitCode == status, "\(String(describing: e))", sourceLocation: sourceLocation)
    for w in words { #expect(e?.description.contains(w) == true, "\(String(describing: e))", sourceLocation: sourceLocation) }
    return e
}
