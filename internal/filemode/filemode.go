// Package filemode names what a file system entry is ("a FIFO", "a folder")
// for messages that refuse it: pkg/aof refuses such an entry in an AOF folder,
// the command line refuses it as an output. It imports nothing of rdbtool.
package filemode

import "io/fs"

// Describe names the kind of entry m describes, with its article.
func Describe(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}
