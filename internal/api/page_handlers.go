package api

import "net/http"

func (s *Server) createPage(w http.ResponseWriter, r *http.Request) error { return errTODO }
func (s *Server) listPages(w http.ResponseWriter, r *http.Request) error  { return errTODO }
func (s *Server) getPage(w http.ResponseWriter, r *http.Request) error    { return errTODO }
func (s *Server) updatePage(w http.ResponseWriter, r *http.Request) error { return errTODO }
func (s *Server) deletePage(w http.ResponseWriter, r *http.Request) error { return errTODO }
