// The minion on its own (`brine minion` hands over to this executable when it
// sits beside `brine`). It links what a minion runs — execution and state
// modules, the wire, NIO — and not the master, its HTTP port, the Docker
// client or ArgumentParser, so an idle minion touches far fewer pages.
import BrineMinion
import Foundation

/// Not an `async` main: that parks the main thread in `dispatch_main()`, whose
/// `pthread_exit` unwinds the main stack through the whole `.eh_frame` table
/// (~0.5 MiB of pages a daemon then keeps). The work runs as a task; the main
/// thread just waits for the process to exit.
let arguments = Array(CommandLine.arguments.dropFirst())
Task.detached { await MinionCommandLine.main(arguments) }
while true { pause() }
