// The UI's calls of the Tauri commands of docs/IPC.md: `api.<command in camelCase>(…)`.
// The wrappers are generated from the Rust command signatures into ../commands.ts (`make
// bindings`), so a command's name, arguments and types are written once, in Rust. A
// rejection is a CommandError carrying the IpcError; `onWrite` hears every successful
// write (./ipc.ts).
export { commands as api } from "../commands";
export { onWrite } from "./ipc";
