import XCTest
@testable import Observe

final class CPUPercentTests: XCTestCase {
    func reading(_ cpu: UInt64, _ clock: UInt64) -> CPUPercent.Reading {
        CPUPercent.Reading(cpuNanoseconds: cpu, clockNanoseconds: clock)
    }

    func testHalfACoreOverOneSecond() {
        XCTAssertEqual(CPUPercent.between(reading(1_000_000_000, 5_000_000_000), reading(1_500_000_000, 6_000_000_000)), 50)
    }

    func testTwoCoresBusyIsTwoHundred() {
        XCTAssertEqual(CPUPercent.between(reading(0, 0), reading(1_000_000_000, 500_000_000)), 200)
    }

    func testIdleIsZero() {
        XCTAssertEqual(CPUPercent.between(reading(42, 1), reading(42, 1_000_000_001)), 0)
    }

    func testNoRateWithoutAnInterval() {
        XCTAssertNil(CPUPercent.between(nil, reading(5, 5)), "first reading")
        XCTAssertNil(CPUPercent.between(reading(1, 7), reading(2, 7)), "no time passed")
        XCTAssertNil(CPUPercent.between(reading(9, 1), reading(2, 7)), "the counter went back: another cgroup")
    }
}

final class RFC3339Tests: XCTestCase {
    func testTimesAsTheRuntimeWritesThem() {
        XCTAssertEqual(RFC3339.seconds("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(RFC3339.seconds("2000-03-01T00:00:00Z"), 951_868_800)
        XCTAssertEqual(RFC3339.seconds("2026-11-29T08:05:42.5Z")!, 1_795_939_542.5, accuracy: 1e-6)
        XCTAssertEqual(RFC3339.seconds("2026-11-29T08:05:42.123456789Z")!, 1_795_939_542.123456789, accuracy: 1e-6)
        XCTAssertEqual(RFC3339.seconds("2026-11-29T09:05:42+01:00"), 1_795_939_542)
    }

    func testMalformedIsNil() {
        for bad in ["", "2026-11-29", "2026-13-01T00:00:00Z", "2026-11-29T08:05:42", "2026-11-29T08:05:42Zjunk", "x026-11-29T08:05:42Z"] {
            XCTAssertNil(RFC3339.seconds(bad), bad)
        }
    }
}
