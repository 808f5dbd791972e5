// Package list is the console's list: a table with type-to-filter whose
// selection follows the row it is about (its key) through reloads and
// filters. It owns the layout of its columns and its own drawing; it must
// not know the screens that use it, core, or what its rows mean.
package list
