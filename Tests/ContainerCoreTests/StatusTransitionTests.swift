import XCTest
@testable import ContainerCore
import OCI

/// The status rules every backend checks: what each verb allows, and runc's words
/// when it refuses.
final class StatusTransitionTests: XCTestCase {
    private func refusal(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    func testOnlyACreatedContainerStarts() {
        XCTAssertNil(refusal { try ContainerStatus.created.canStart() })
        XCTAssertEqual(refusal { try ContainerStatus.stopped.canStart() }, "cannot start a container that has stopped")
        XCTAssertEqual(refusal { try ContainerStatus.running.canStart() }, "cannot start an already running container")
        XCTAssertEqual(refusal { try ContainerStatus.paused.canStart() }, "cannot start a container in the paused state")
        XCTAssertEqual(refusal { try ContainerStatus.creating.canStart() }, "cannot start a container that is still being created")
    }

    func testKillAllOfAStoppedContainerIsAllowed() {
        XCTAssertNil(refusal { try ContainerStatus.stopped.canKill("c", all: true) })
        XCTAssertEqual(refusal { try ContainerStatus.stopped.canKill("c", all: false) },
                       "container \"c\" is stopped: container not running")
        XCTAssertNil(refusal { try ContainerStatus.paused.canKill("c", all: false) })
    }

    func testDeleteOfALiveContainerNeedsForce() {
        XCTAssertNil(refusal { try ContainerStatus.created.canDelete("c", force: false) })
        XCTAssertNil(refusal { try ContainerStatus.stopped.canDelete("c", force: false) })
        XCTAssertNil(refusal { try ContainerStatus.running.canDelete("c", force: true) })
        XCTAssertEqual(refusal { try ContainerStatus.paused.canDelete("c", force: false) },
                       "cannot delete container c that is not stopped: paused")
    }

    func testPauseAndResume() {
        XCTAssertNil(refusal { try ContainerStatus.running.canPause("c") })
        XCTAssertNil(refusal { try ContainerStatus.created.canPause("c") })
        XCTAssertEqual(refusal { try ContainerStatus.paused.canPause("c") }, "container \"c\" is paused: container not running")
        XCTAssertEqual(refusal { try ContainerStatus.stopped.canPause("c") }, "container \"c\" is stopped: container not running")
        XCTAssertNil(refusal { try ContainerStatus.paused.canResume("c") })
        XCTAssertEqual(refusal { try ContainerStatus.running.canResume("c") }, "container \"c\" is running: container not paused")
        XCTAssertEqual(refusal { try ContainerStatus.created.canResume("c") }, "container \"c\" is created: container not paused")
    }

    func testCheckpointTakesRunningAndPausedAndRefusesTheRestInRuncsWords() {
        XCTAssertNil(refusal { try ContainerStatus.running.canCheckpoint() })
        XCTAssertNil(refusal { try ContainerStatus.paused.canCheckpoint() })
        XCTAssertEqual(refusal { try ContainerStatus.created.canCheckpoint() }, "Container cannot be checkpointed in created state")
        XCTAssertEqual(refusal { try ContainerStatus.stopped.canCheckpoint() }, "Container cannot be checkpointed in stopped state")
    }

    func testCheckpointOptionsNameWhatOnlyCRIUCanDo() {
        var options = CheckpointOptions(imagePath: "img")
        options.leaveRunning = true
        options.fileLocks = true
        options.shellJob = true
        XCTAssertEqual(options.criuOnlyFlags, [])
        options.tcpEstablished = true
        options.manageCgroupsMode = "soft"
        options.emptyNamespaces = ["network"]
        XCTAssertEqual(options.criuOnlyFlags, ["--tcp-established", "--manage-cgroups-mode", "--empty-ns"])
    }

    func testExecInAPausedContainerOffersTheOverrideOnlyWhereThereIsOne() {
        XCTAssertNil(refusal { try ContainerStatus.paused.canExec(ignorePaused: true) })
        XCTAssertEqual(refusal { try ContainerStatus.paused.canExec(ignorePaused: false) },
                       "cannot exec in a paused container (use --ignore-paused to override)")
        XCTAssertEqual(refusal { try ContainerStatus.paused.canExec(ignorePaused: nil) }, "cannot exec in a paused container")
        XCTAssertEqual(refusal { try ContainerStatus.stopped.canExec(ignorePaused: nil) }, "cannot exec in a stopped container")
    }

    func testRefusalsCarryTheirKind() {
        do { try ContainerStatus.stopped.canUpdate("c") } catch let e as RuntimeError {
            XCTAssertEqual(e.kind, .containerNotRunning)
        } catch { XCTFail("\(error)") }
        do { try ContainerStatus.running.canResume("c") } catch let e as RuntimeError {
            XCTAssertEqual(e.kind, .refusedInStatus)
        } catch { XCTFail("\(error)") }
    }
}
