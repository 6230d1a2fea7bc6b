package api

import "net/http"

func (s *Server) createLink(w http.ResponseWriter, r *http.Request) error      { return errTODO }
func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) error       { return errTODO }
func (s *Server) linkInfo(w http.ResponseWriter, r *http.Request) error        { return errTODO }
func (s *Server) upsertLink(w http.ResponseWriter, r *http.Request) error      { return errTODO }
func (s *Server) bulkCreateLinks(w http.ResponseWriter, r *http.Request) error { return errTODO }
func (s *Server) bulkUpdateLinks(w http.ResponseWriter, r *http.Request) error { return errTODO }
func (s *Server) bulkDeleteLinks(w http.ResponseWriter, r *http.Request) error { return errTODO }
func (s *Server) getLink(w http.ResponseWriter, r *http.Request) error         { return errTODO }
func (s *Server) updateLink(w http.ResponseWriter, r *http.Request) error      { return errTODO }
func (s *Server) deleteLink(w http.ResponseWriter, r *http.Request) error      { return errTODO }
