import FoundationEssentials
import XCTest
@testable import OCI

/// Decodes `json` as a config.json, failing the test on error.
func decodeSpec(_ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> Spec {
    do {
        return try Spec.decode(from: Data(json.utf8))
    } catch {
        XCTFail("unexpected error: \(error)", file: file, line: line)
        throw error
    }
}

/// The `OCIError` decoding `json` throws; fails the test if it decodes or throws another error.
func decodingError(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> OCIError? {
    do {
        _ = try Spec.decode(from: Data(json.utf8))
        XCTFail("decoded, but an error was expected", file: file, line: line)
    } catch let error as OCIError {
        return error
    } catch {
        XCTFail("expected an OCIError, got \(type(of: error)): \(error)", file: file, line: line)
    }
    return nil
}

/// Asserts that `spec.validate()` throws an `OCIError` for `field`, and returns it.
@discardableResult
func assertInvalid(_ spec: Spec, field: String, file: StaticString = #filePath, line: UInt = #line) -> OCIError? {
    do {
        try spec.validate()
        XCTFail("validated, but an error about \(field) was expected", file: file, line: line)
    } catch let error as OCIError {
        XCTAssertEqual(error.field, field, "\(error)", file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), "one line: \(error)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected an OCIError, got \(error)", file: file, line: line)
    }
    return nil
}

/// A valid configuration for validation tests to break one field at a time.
func validSpec() -> Spec {
    Spec.runcDefault(rootless: false)
}
