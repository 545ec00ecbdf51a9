// Command gatehouse is the Gatehouse authorization server and its
// administration tool: flags, configuration, wiring of the concrete parts,
// graceful shutdown. It is the only package that imports a storage backend
// and the transport together.
package main
