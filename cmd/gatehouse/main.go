package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// env is everything a command reads from or writes to its process, so that
// tests run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// onListen, when set, learns the address the server listens on.
	onListen func(addr string)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(ctx, os.Args[1:], e))
}
